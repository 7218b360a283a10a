"""Matching: read models of open work and active workers, explained shortlists and (later)
optimised assignment of many people to many tasks."""
