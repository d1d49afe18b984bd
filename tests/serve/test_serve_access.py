"""Analyst actions: token, session login, CSRF; public pages stay open."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from isdas.models import Key
from isdas.serve import create_app
from isdas.settings import Settings
from tests.serve.serve_fake import fill_catalog

TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[TestClient]:
    home = tmp_path / "home"
    home.mkdir()
    (home / "admin.token").write_text(TOKEN + "\n")
    with TestClient(create_app(Settings(home=home))) as c:
        yield c


def test_actions_need_a_token(app_client: TestClient) -> None:
    reply = app_client.post("/api/v1/alerts/X-AT-2026-0001/publish")
    assert reply.status_code == 401 and reply.json()["ok"] is False
    wrong = {"Authorization": "Bearer nope"}
    assert app_client.post("/api/v1/sensors", headers=wrong).status_code == 401


def test_bearer_token_registers_a_sensor(app_client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    reply = app_client.post("/api/v1/sensors", headers=auth, json={"sensor_id": "edge-1"})
    assert reply.status_code == 201, reply.text and reply.json()["token"].startswith("isdas_")
    assert "edge-1" in [s["sensor"] for s in app_client.get("/sensors.json").json()["sensors"]]


def test_login_sets_a_session_and_forms_need_csrf(app_client: TestClient) -> None:
    app_client.get("/login")
    csrf = app_client.cookies["isdas_csrf"]
    assert app_client.post("/login", data={"token": TOKEN}).status_code == 403
    bad = app_client.post("/login", data={"token": "wrong", "csrf": csrf})
    assert bad.status_code == 401
    ok = app_client.post("/login", data={"token": TOKEN, "csrf": csrf}, follow_redirects=False)
    assert ok.status_code == 303 and "isdas_session" in ok.cookies
    no_csrf = app_client.post("/alerts/X-AT-2026-0001/publish", data={})
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
    with_csrf = app_client.post("/alerts/X-AT-2026-0001/publish", data={"csrf": csrf})
    assert with_csrf.status_code in (404, 503)


def test_actions_refused_without_configured_token(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(home=tmp_path / "h"))) as c:
        reply = c.post("/api/v1/sensors", headers={"Authorization": "Bearer x"})
        assert reply.status_code == 403 and "disabled" in reply.json()["error"]


@pytest.fixture
def alert_home(tmp_path: Path) -> tuple[Settings, str]:
    """A filled home with one drafted alert and an admin token file."""
    from isdas.publish import manage

    settings = Settings(home=tmp_path / "home")
    last = fill_catalog(settings, days=10, sensors=2, ports=8)
    (settings.home / "admin.token").write_text(TOKEN)
    return settings, manage.draft_port(settings, Key(6, 5555), last - timedelta(days=2)).id


def test_analyst_edits_and_publishes_an_alert(alert_home: tuple[Settings, str]) -> None:
    settings, alert_id = alert_home
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(settings)) as c:
        edit = {"title": "Rise of ADB scanning", "note": "clearer title"}
        assert c.post(f"/api/v1/alerts/{alert_id}/edit", json=edit).status_code == 401
        reply = c.post(f"/api/v1/alerts/{alert_id}/edit", json=edit, headers=auth)
        assert reply.status_code == 200 and reply.json()["alert"]["title"] == edit["title"]
        c.get("/login")
        csrf = c.cookies["isdas_csrf"]
        c.post("/login", data={"token": TOKEN, "csrf": csrf})
        page = c.get(f"/alerts/{alert_id}").text
        assert "Save a new revision" in page and "Rise of ADB scanning" in page
        done = c.post(f"/alerts/{alert_id}/publish", data={"csrf": csrf}, follow_redirects=False)
        assert done.status_code == 303
        shown = c.get(f"/alerts/{alert_id}.json").json()["alert"]
        assert shown["status"] == "published" and shown["revision"] == 3


def test_collector_routes_are_mounted(app_client: TestClient) -> None:
    reply = app_client.post("/api/v1/ingest", content=b"x")
    assert reply.status_code in (400, 401, 403, 413, 415, 422)
