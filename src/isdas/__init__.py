"""isdas: Internet Scan Data Acquisition System.

Sensors on dark address space -> collector -> Parquet lake + DuckDB catalog -> hourly per-port
metrics -> increase detection -> explanation -> alerts, graphs, dashboard, API and feeds.
"""

__version__ = "0.1.0"
