"""Pure analysis math on numpy and usearch (scipy where a step needs it; umap for the map, laid out at
build time): no web framework, cache or HTTP here (import contracts in pyproject.toml)."""
