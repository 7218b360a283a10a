"""Benchmarks run by `make bench`; each prints a table with its figures and the machine."""
