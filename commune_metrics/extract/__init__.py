"""Extraction: a normalized Document in, metadata and evidence-backed facts out.

Entry point: `commune_metrics.extract.extractor.extract(document) -> Extraction`.
"""
