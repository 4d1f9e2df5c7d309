"""DuckDB warehouse: schema (sql/*.sql, applied in name order when their version changes),
single-writer loading with document versions, and read-only access for queries.

    with open_warehouse(path) as wh:          # waits for the writer lock
        run_id = wh.start_run("cli")
        wh.load(process_result, run_id)       # one transaction per document
    con = connect_readonly(path)              # for queries; never migrates
"""

from commune_metrics.warehouse.errors import (
    WarehouseBusyError,
    WarehouseDiskFullError,
    WarehouseError,
    WarehouseNotFoundError,
    WarehouseWriteError,
)
from commune_metrics.warehouse.identity import document_key
from commune_metrics.warehouse.store import (
    LOADED,
    OUTCOMES,
    QUARANTINED,
    SKIPPED,
    UNCHANGED,
    UNPACKED,
    LoadOutcome,
    Origin,
    Warehouse,
    connect_readonly,
    open_warehouse,
)

__all__ = [
    "LOADED",
    "OUTCOMES",
    "QUARANTINED",
    "SKIPPED",
    "UNCHANGED",
    "UNPACKED",
    "LoadOutcome",
    "Origin",
    "Warehouse",
    "WarehouseBusyError",
    "WarehouseDiskFullError",
    "WarehouseError",
    "WarehouseNotFoundError",
    "WarehouseWriteError",
    "connect_readonly",
    "document_key",
    "open_warehouse",
]
