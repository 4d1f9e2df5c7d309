"""Errors the warehouse reports to users as one clear line (never DuckDB's own trace)."""

from __future__ import annotations


class WarehouseError(Exception):
    """Base: anything the CLI prints as a single line and exits non-zero on."""


class WarehouseBusyError(WarehouseError):
    """Another run holds the writer lock, or another program has the DuckDB file open."""


class WarehouseNotFoundError(WarehouseError):
    """A read-only open of a warehouse that was never created."""


class WarehouseWriteError(WarehouseError):
    """A write to the warehouse failed (I/O error); nothing of the document was kept."""


class WarehouseDiskFullError(WarehouseWriteError):
    """No space left (or quota exceeded) where the warehouse lives."""
