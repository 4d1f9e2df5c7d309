"""Synthetic sample documents for tests and benchmarks: content generators and file renderers."""
