"""API and pages through the app: figures against SQL ground truth, twins, errors, access."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import duckdb
import feedparser
import pytest
from starlette.testclient import TestClient

from tests.serve.conftest import Filled

pytestmark = pytest.mark.xdist_group(name="serve-api")


def truth(filled: Filled, sql: str, params: list[object]) -> list[tuple[object, ...]]:
    """Ground truth straight from the catalog file (a separate read-only connection)."""
    con = duckdb.connect(str(filled.settings.catalog), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def test_overview_top_ports_match_the_catalog(filled: Filled, client: TestClient) -> None:
    body = client.get("/overview.json").json()
    last = filled.last.replace(tzinfo=None)
    expected = truth(
        filled,
        "SELECT proto, port FROM metrics_port WHERE cls='scan' AND hour > ? - INTERVAL 24 HOUR "
        "GROUP BY ALL ORDER BY sum(mean_per_sensor) DESC LIMIT 10",
        [last],
    )
    assert [(p["proto"], p["port"]) for p in body["top_packets"]] == expected
    assert body["ok"] is True
    assert body["sensors"] == {"up": 3, "down": 1, "list": body["sensors"]["list"]}
    assert {p["proto_name"] for p in body["protocols"]} == {"tcp", "udp", "icmp"}
    assert len(body["regions"]["countries"]) == 6


def test_html_and_json_twin_show_the_same_figures(client: TestClient) -> None:
    body = client.get("/overview.json").json()
    html = client.get("/").text
    first = body["top_sources"][0]
    assert f'href="/ports/{first["proto_name"]}/{first["port"]}"' in html
    assert f"{first['sources_per_hour']:,.1f}" in html


@pytest.mark.parametrize("window", ["1w", "1m", "3m", "1y"])
def test_port_series_sums_match_the_catalog(
    filled: Filled, client: TestClient, window: str
) -> None:
    body = client.get(f"/ports/tcp/445.json?window={window}").json()
    hours = body["range"]["bucket_hours"]
    since, until = body["range"]["since"], body["range"]["until"]
    (total,) = truth(
        filled,
        "SELECT sum(sources) FROM metrics_port WHERE proto=6 AND port=445 AND cls='scan' "
        "AND hour >= ?::TIMESTAMPTZ AND hour < ?::TIMESTAMPTZ",
        [since, until],
    )[0]
    assert sum(body["series"]["sources"]) * hours == pytest.approx(float(total), rel=1e-3)
    assert len(body["series"]["t"]) == len(body["series"]["packets_per_sensor"])
    assert {s["sensor"] for s in body["sensors"]} == {"s01", "s02", "s03", "s04"}
    assert body["countries"][0]["country"] == "CN"


def test_rising_port_shows_in_its_trend(client: TestClient) -> None:
    series = client.get("/ports/tcp/5555.json?window=1w").json()["series"]["packets_per_sensor"]
    assert sum(series[-48:]) / 48 > 5 * sum(series[:48]) / 48


def test_port_page_html_has_windows_and_chart(client: TestClient) -> None:
    html = client.get("/ports/tcp/445?window=1m").text
    assert 'data-chart="trend"' in html
    assert 'data-window="1y"' in html
    assert 'class="active" aria-current="true">1 month' in html


def test_sensors_page_reports_the_silent_sensor_and_its_gap(client: TestClient) -> None:
    sensors = {s["sensor"]: s for s in client.get("/sensors.json").json()["sensors"]}
    assert not sensors["s04"]["up"]
    assert sensors["s04"]["gaps"][-1]["hours"] == 47
    assert sensors["s01"]["up"] and sensors["s01"]["gaps"] == []


def test_top_ports_csv_and_json_agree(client: TestClient) -> None:
    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/top-ports?format=csv").text)))
    body = client.get("/api/v1/top-ports").json()
    assert [r["key"] for r in rows] == [p["key"] for p in body["ports"]]
    paged = client.get("/api/v1/top-ports?limit=3&offset=2&by=sources").json()
    assert [p["rank"] for p in paged["ports"]] == [3, 4, 5]


def test_series_csv_covers_the_range(filled: Filled, client: TestClient) -> None:
    until = filled.last + timedelta(hours=1)
    since = until - timedelta(days=2)
    q = f"since={since:%Y-%m-%dT%H:%M:%SZ}&until={until:%Y-%m-%dT%H:%M:%SZ}"
    reply = client.get(f"/api/v1/series/udp/53?{q}&format=csv")
    assert reply.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    assert len(rows) == 48 and all(float(r["packets"]) > 0 for r in rows)


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/api/v1/top-ports?limit=0", 400, "limit"),
        ("/api/v1/top-ports?limit=abc", 400, "limit"),
        ("/api/v1/top-ports?by=bytes", 400, "by"),
        ("/api/v1/top-ports?since=yesterday", 400, "since"),
        ("/api/v1/top-ports?since=2026-01-02&until=2026-01-01", 400, "before"),
        ("/api/v1/series/tcp/22?since=2000-01-01&until=2026-01-01", 400, "range"),
        ("/ports/tcp/445.json?window=2w", 400, "window"),
        ("/ports/sctp/1.json", 404, "protocol"),
        ("/ports/tcp/70000.json", 404, "port"),
        ("/alerts/NOPE-1.json", 404, "NOPE-1"),
        ("/nothing-here.json", 404, "Not Found"),
    ],
)
def test_errors_are_consistent(client: TestClient, url: str, status: int, words: str) -> None:
    reply = client.get(url)
    body = reply.json()
    assert reply.status_code == status
    assert body["ok"] is False and body["status"] == status and words in body["error"]


def test_security_headers_on_pages_and_api(client: TestClient) -> None:
    for url in ("/", "/api/v1/top-ports"):
        headers = client.get(url).headers
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_search_by_number_and_service_name(client: TestClient) -> None:
    assert [r["key"] for r in client.get("/search.json?q=53").json()["results"]] == ["udp/53"]
    found = client.get("/search.json?q=ssh").json()["results"]
    if not found:
        pytest.skip("knowledge stage gives no service names here")
    assert "tcp/22" in [r["key"] for r in found]
    redirect = client.get("/search?q=tcp/445", follow_redirects=False)
    assert redirect.headers["location"] == "/ports/tcp/445"


def test_metrics_exposition(client: TestClient) -> None:
    client.get("/ports/tcp/22.json")
    text = client.get("/metrics").text
    assert (
        'isdas_http_request_duration_seconds_count{route="/ports/{proto}/{port:int}.json"' in text
    )
    assert 'isdas_sensor_up{sensor="s04"} 0' in text
    assert 'isdas_sensor_up{sensor="s01"} 1' in text


def test_atom_feed_and_openapi(client: TestClient) -> None:
    parsed = feedparser.parse(client.get("/alerts/feed.atom").content)
    assert not parsed.bozo and parsed.feed.title.endswith("alerts")
    doc = client.get("/openapi.json").json()
    assert "/api/v1/top-ports" in doc["paths"] and "ok" not in doc
    assert "/api/v1/series/{proto}/{port}" in client.get("/api/docs").text


def test_empty_home_renders_nothing_yet(empty_client: TestClient) -> None:
    for url in ("/", "/ports/tcp/23", "/sensors", "/alerts"):
        reply = empty_client.get(url)
        assert reply.status_code == 200, url
        assert "Nothing yet" in reply.text or "No alerts yet" in reply.text
    assert empty_client.get("/overview.json").json()["top_packets"] == []


def test_cache_follows_catalog_writes(filled: Filled, client: TestClient) -> None:
    before = client.get("/api/v1/top-ports?proto=udp&limit=1").json()["ports"][0]
    con = duckdb.connect(str(filled.settings.catalog))
    try:
        con.execute(
            "INSERT INTO metrics_port VALUES (?, 17, 9999, 'scan', 10, 10, 1, 1, 1e9)",
            [filled.last.replace(tzinfo=None)],
        )
    finally:
        con.close()
    after = client.get("/api/v1/top-ports?proto=udp&limit=1").json()["ports"][0]
    assert before["port"] != 9999 and after["port"] == 9999
