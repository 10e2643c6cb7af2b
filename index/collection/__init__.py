"""The collection changed: SEEDS_DIR and the index together, feeds, wire copies."""
