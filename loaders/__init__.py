"""Offline extraction: a model's input embeddings + vocabulary -> a verified artifact directory."""

LOADER_VERSION = "0.5.0"  # 0.2: languages; 0.3: vocabulary kinds; 0.4: tokenizers; 0.5: reachability
