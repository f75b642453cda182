"""Pure analysis math (numpy/usearch only): no web framework, no cache, no HTTP here."""
