"""Extraction: a normalized Document in, metadata and evidence-backed facts out.

Entry point: `extractors.pipeline.extract(document) -> Extraction`.
"""
