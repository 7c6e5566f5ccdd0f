"""Benchmarks for Local Partnerships (``make bench``). See __main__.py."""
