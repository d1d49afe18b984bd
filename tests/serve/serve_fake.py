"""Fill a catalog with generated hourly metrics (plain SQL in the documented schema).

Used by the serve tests and by benchmarks/bench_serve.py before the ingest stage is available:
it writes the tables of store/sql/10_core.sql directly, never through isdas code paths.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from isdas.settings import Settings
from isdas.store.catalog import connect

PORTS: tuple[tuple[int, int, float], ...] = (
    (6, 23, 900.0),
    (6, 22, 600.0),
    (6, 445, 500.0),
    (6, 80, 400.0),
    (6, 443, 250.0),
    (6, 3389, 300.0),
    (6, 8080, 200.0),
    (6, 5555, 60.0),
    (6, 6379, 80.0),
    (6, 1433, 90.0),
    (6, 2323, 120.0),
    (6, 81, 70.0),
    (6, 8443, 50.0),
    (6, 21, 60.0),
    (6, 25, 40.0),
    (17, 53, 150.0),
    (17, 123, 100.0),
    (17, 161, 80.0),
    (17, 1900, 60.0),
    (17, 5060, 110.0),
    (1, 8, 300.0),
)
COUNTRIES: tuple[tuple[str, float], ...] = (
    ("CN", 0.28),
    ("US", 0.2),
    ("RU", 0.1),
    ("NL", 0.08),
    ("BR", 0.07),
    ("DE", 0.06),
    ("IN", 0.05),
    ("ZZ", 0.16),
)


def default_end() -> datetime:
    """The current hour, UTC."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def fill_catalog(
    settings: Settings,
    *,
    days: int = 14,
    sensors: int = 4,
    end: datetime | None = None,
    ports: int = len(PORTS),
) -> datetime:
    """Write `days` of hourly metrics for `sensors` sensors ending at `end`; returns the last hour.

    tcp/5555 rises tenfold over the last three days; the last sensor is silent for the last
    two days (a gap), so health and trend views have something to show.
    """
    last = (end or default_end()).replace(tzinfo=None)
    first = last - timedelta(hours=days * 24 - 1)
    with connect(settings) as con:
        con.execute("SET enable_progress_bar = false")
        con.execute("CREATE TEMP TABLE p(proto UTINYINT, port INTEGER, base DOUBLE)")
        con.executemany("INSERT INTO p VALUES (?, ?, ?)", [list(p) for p in PORTS[:ports]])
        con.execute("CREATE TEMP TABLE c(country TEXT, share DOUBLE)")
        con.executemany("INSERT INTO c VALUES (?, ?)", [list(c) for c in COUNTRIES])
        con.execute(
            "CREATE TEMP TABLE s AS SELECT printf('s%02d', i) AS sensor_id, i "
            "FROM range(1, ? + 1) t(i)",
            [sensors],
        )
        con.execute(
            "CREATE TEMP TABLE h AS SELECT unnest(range(?::TIMESTAMP, ?::TIMESTAMP + INTERVAL 1 "
            "HOUR, INTERVAL 1 HOUR)) AS hour",
            [first, last],
        )
        _fill_sensor(con, sensors, last)
        _fill_rest(con)
    return last.replace(tzinfo=UTC)


def _fill_sensor(con: object, sensors: int, last: datetime) -> None:
    down_from = last - timedelta(hours=47)
    con.execute(  # type: ignore[attr-defined]
        """
        INSERT INTO metrics_sensor
        SELECT hour, sensor_id, proto, port, 'scan', pk::BIGINT,
               greatest(1, pk / 4)::BIGINT, greatest(1, pk / 3)::BIGINT
        FROM (
            SELECT h.hour, s.sensor_id, p.proto, p.port,
                   p.base * (1 + 0.3 * sin(2 * pi() * hour(h.hour) / 24))
                   * (0.6 + (hash(h.hour, s.i, p.port) % 1000) / 1250.0)
                   * CASE WHEN p.port = 5555 AND h.hour > ?::TIMESTAMP - INTERVAL 3 DAY
                          THEN 10 ELSE 1 END AS pk
            FROM h, s, p
            WHERE NOT (s.i = ? AND h.hour > ?::TIMESTAMP)
        )
        """,
        [last, sensors, down_from],
    )


def _fill_rest(con: object) -> None:
    run = con.execute  # type: ignore[attr-defined]
    run(
        """
        INSERT INTO metrics_port
        SELECT hour, proto, port, cls, sum(packets), (sum(sources) * 0.8)::BIGINT,
               count(*), (SELECT count(DISTINCT sensor_id) FROM metrics_sensor m2
                          WHERE m2.hour = m.hour),
               sum(packets) / count(*)
        FROM metrics_sensor m GROUP BY ALL
        """
    )
    run(
        """
        INSERT INTO metrics_country
        SELECT hour, proto, port, cls, country, (packets * share)::BIGINT,
               greatest(1, sources * share)::BIGINT
        FROM metrics_port, c
        """
    )
    run(
        "INSERT INTO sensor_hours SELECT hour, sensor_id, sum(packets), sum(sources) "
        "FROM metrics_sensor GROUP BY ALL"
    )
    run(
        """
        INSERT INTO sensors
        SELECT sensor_id, 256, NULL, min(hour), max(hour), sum(packets), min(hour)
        FROM sensor_hours GROUP BY sensor_id
        """
    )
