"""Compatibility entry: `python -m pipeline` (contract v2) runs the commune_metrics CLI."""
