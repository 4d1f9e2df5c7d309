"""commune-metrics: Vietnamese commune reports -> evidence-backed facts in DuckDB.

Data flows one way: readers -> normalize -> extractors -> validate -> warehouse.
"""

__version__ = "0.1.0"
