"""Files served from folders (the reports): never through a symbolic link."""

from __future__ import annotations

import os
from typing import Any

from litestar.file_system import BaseLocalFileSystem
from litestar.types import FileInfo, PathType


class NoSymlinks(BaseLocalFileSystem):
    """A path with a symbolic link anywhere below the served folder is a 404: a link placed inside
    the reports folder (to /etc/passwd, to a private key) is not followed. The folder itself is
    resolved once when the router is made."""

    async def info(self, path: PathType, **kwargs: Any) -> FileInfo:
        absolute = os.path.abspath(path)
        if os.path.realpath(absolute) != absolute:
            raise FileNotFoundError(path)
        return await super().info(path, **kwargs)
