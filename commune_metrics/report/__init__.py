"""Analyst report: one self-contained HTML file and an Excel export of the warehouse views."""

from commune_metrics.report.build import build_report

__all__ = ["build_report"]
