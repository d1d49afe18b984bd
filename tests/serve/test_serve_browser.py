"""End to end in real headless Chromium: overview, port page, window switch, an alert.

Screenshots go to $ISDAS_SCREENSHOTS (default: the test's tmp dir) and are checked not blank.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from isdas.models import Key
from isdas.settings import Settings
from tests.serve.conftest import Live, start_server, stop_server
from tests.serve.serve_fake import fill_catalog

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Live, str]]:
    """A served home with metrics and one drafted alert (id returned)."""
    from isdas.publish import manage

    settings = Settings(home=tmp_path_factory.mktemp("browser") / "home")
    last = fill_catalog(settings, days=21, sensors=4)
    alert = manage.draft_port(settings, Key(6, 5555), last - timedelta(days=3))
    server = start_server(settings)
    yield server, alert.id
    stop_server(server)


@pytest.fixture(scope="module")
def page(site: tuple[Live, str]) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed (scripts/system-deps.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield context.new_page()
        browser.close()


def shots() -> Path:
    folder = Path(os.environ.get("ISDAS_SCREENSHOTS", "/tmp/isdas-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def assert_not_blank(path: Path) -> None:
    image = Image.open(path).convert("RGB").resize((64, 64))
    colours = image.getcolors(64 * 64) or []
    assert len(colours) > 20, f"{path} looks blank ({len(colours)} colours)"


def overview_renders_tables_and_region_chart(base: str, page: Any) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "/")
    page.wait_for_selector("#regions canvas")
    assert page.locator("table.ports tbody tr").count() >= 10
    out = shots() / "overview.png"
    page.screenshot(path=str(out), full_page=True)
    assert_not_blank(out)
    assert errors == []


def port_page_switches_window(base: str, page: Any) -> None:
    page.goto(base + "/ports/tcp/5555")
    page.wait_for_selector("#trend canvas")
    page.click("a[data-window='1m']")
    page.wait_for_selector("body[data-window='1m']", state="attached")
    assert page.url.endswith("?window=1m")
    assert "active" in (page.get_attribute("a[data-window='1m']", "class") or "")
    out = shots() / "port-1m.png"
    page.screenshot(path=str(out), full_page=True)
    assert_not_blank(out)


def alert_opens_from_the_archive(base: str, page: Any, alert_id: str) -> None:
    page.goto(base + "/alerts")
    page.click(f"a[href='/alerts/{alert_id}']")
    page.wait_for_selector("#trend canvas")
    assert alert_id in page.inner_text("h1")
    assert "III. Solution" in page.inner_text("article")
    out = shots() / "alert.png"
    page.screenshot(path=str(out), full_page=True)
    assert_not_blank(out)


def phone_layout_fits(base: str, page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "/ports/tcp/445")
    page.wait_for_selector("#trend canvas")
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    out = shots() / "port-phone.png"
    page.screenshot(path=str(out), full_page=True)
    assert_not_blank(out)


def test_dashboard_in_chromium(site: tuple[Live, str], page: Any) -> None:
    """One browser session (Chromium starts once): overview, port + window, alert, phone."""
    live, alert_id = site
    overview_renders_tables_and_region_chart(live.url, page)
    port_page_switches_window(live.url, page)
    alert_opens_from_the_archive(live.url, page, alert_id)
    phone_layout_fits(live.url, page)
