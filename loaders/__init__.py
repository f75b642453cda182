"""Offline extraction: a model's input embeddings + vocabulary -> a verified artifact directory."""

# 0.2: languages; 0.3: kinds; 0.4: tokenizers; 0.5: reachability; 0.6: string tables; 0.7: the map;
# 0.8: the map from the stored rows (in a child process beside the index), the symmetric exact table;
# 0.9: norms, table, index and lexicon from the stored (float16) rows; CSLS means stored (csls_r.npy)
# 0.10: lexicons of every language (lists, the scripts no list covers, users' lists), matched by key
# 0.11: lexicon words in the form people write them (cased by the tokenizer's own probabilities), each
#       language's words in its own scripts and not another language's, each word's dictionary form
LOADER_VERSION = "0.11.0"
