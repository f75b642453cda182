"""Analyses of a model's geometry, most of them run as jobs: writing-system and language
separability, neighbor diversity, language relations, two models compared, a model's two spaces
compared, vocabulary health (anomalies, statistics, footprint), the map and exports, the lexicon's
costs. Each takes its request Struct whole and returns its response Struct."""
