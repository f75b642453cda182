"""Offline extraction: a model's input embeddings + vocabulary -> a verified artifact directory."""

LOADER_VERSION = "0.4.0"  # 0.2: language labels; 0.3: vocabulary kinds, "unused"; 0.4: tokenizers
