"""Offline extraction: a model's input embeddings + vocabulary -> a verified artifact directory."""

LOADER_VERSION = "0.1.0"
