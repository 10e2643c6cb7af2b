"""Benchmarks: commands that print figures (speed, memory, scale), never timed tests."""
