"""Offline extraction: a model's input embeddings + vocabulary -> a verified artifact directory."""

LOADER_VERSION = "0.2.1"  # 0.2: language labels
