"""Test helpers for the publish stage: a fixed detection and alert, a catalog with metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa

from isdas.knowledge.ports import port_info
from isdas.models import CountryShare, Detection, SensorShare
from isdas.publish import draft
from isdas.publish.document import Alert
from isdas.settings import Settings
from isdas.store.catalog import connect

ONSET = datetime(2007, 8, 22, 15, tzinfo=UTC)
DRAFTED = datetime(2007, 8, 23, 1, tzinfo=UTC)


def detection(port: int = 5168, ident: str = "det-5168") -> Detection:
    """A hand-built global rise on TCP `port`, like JPCERT-AT-2007-0019."""
    return Detection(
        id=ident,
        proto="tcp",
        port=port,
        kind="global",
        start=ONSET,
        detected_at=ONSET + timedelta(hours=3),
        observed_sources=120,
        expected_sources=12.5,
        observed_packets=4000,
        expected_packets=300,
        excess_sources=107.5,
        score=9.1,
        shape="epidemic",
        doubling_hours=6.0,
        sensors=(SensorShare("s1", 60, 6), SensorShare("s2", 58, 6.5)),
        countries=(CountryShare("CN", 0.45, 48), CountryShare("JP", 0.2, 21)),
        fingerprints=("mirai",),
    )


def fixed_alert() -> Alert:
    """The golden-file alert: drafted from `detection()`, id and revision fixed."""
    from dataclasses import replace

    alert = draft.from_detection(detection(), port_info("tcp", 5168), at=DRAFTED)
    return replace(alert, id="ISDAS-AT-2007-0019", graphs=("port-1w.png",))


def fill_metrics(
    settings: Settings, port: int = 5168, *, start: datetime, hours: int, rise_at: int
) -> None:
    """Hourly metrics for tcp/`port` on sensors s1, s2: flat, then 8x from hour `rise_at`."""
    port_rows, sensor_rows, country_rows, hour_rows = [], [], [], []
    for h in range(hours):
        ts = (start + timedelta(hours=h)).replace(tzinfo=None)
        k = 8 if h >= rise_at else 1
        for s, w in (("s1", 5), ("s2", 4)):
            sensor_rows.append((ts, s, 6, port, "scan", w * k, 2 * k, 1))
            hour_rows.append((ts, s, 100, 20))
        port_rows.append((ts, 6, port, "scan", 9 * k, 3 * k, 2, 2, 4.5 * k))
        for cc, w in (("CN", 4), ("JP", 2), ("US", 1), ("KR", 1), ("BR", 1), ("RU", 1), ("DE", 1)):
            country_rows.append((ts, 6, port, "scan", cc, w * k, max(1, w * k // 3)))
    tables = {
        "metrics_port": port_rows,
        "metrics_sensor": sensor_rows,
        "metrics_country": country_rows,
        "sensor_hours": hour_rows,
    }
    with connect(settings) as con:
        for name, rows in tables.items():
            columns = list(zip(*rows, strict=True))
            data = pa.table({f"c{i}": list(col) for i, col in enumerate(columns)})
            con.register("incoming", data)
            con.execute(f"INSERT INTO {name} SELECT * FROM incoming")
            con.unregister("incoming")
