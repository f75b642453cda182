"""polyglot-geometry: the HTTP service over artifacts built by `loaders`."""
