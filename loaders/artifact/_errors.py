"""Errors raised while reading sources or artifacts.

    LoaderError                 any problem the CLI reports in one line with exit code 2
    ├── SourceError             the source cannot be read (unknown kind, missing file, no tensor, ...)
    └── ArtifactError           an artifact is missing, broken, or of another format version

The service catches ArtifactError at start-up and refuses to start with its message.
"""


class LoaderError(Exception):
    """A problem the user can fix; its message is one line."""


class SourceError(LoaderError):
    pass


class ArtifactError(LoaderError):
    pass
