"""Store stage: the only place that imports duckdb or writes files of the lake.

Lake: Parquet files under `<home>/lake/day=YYYY-MM-DD/sensor=ID/`, each written atomically and
never rewritten in place. Catalog: one DuckDB file, `<home>/catalog.duckdb`, whose tables are
declared by the `sql/*.sql` files of this package (applied in name order, idempotently).

Connections are short-lived: open, do one operation, close. DuckDB admits one writing process,
so `Catalog.connect` retries briefly when another process holds the lock.
"""
