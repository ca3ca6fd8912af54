"""Benchmarks (`make bench`): never part of the tests. See bench/README.md."""
