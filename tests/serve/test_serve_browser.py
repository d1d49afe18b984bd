"""End to end in real headless Chromium: overview, port page, window switch, an alert.

Screenshots go to $ISDAS_SCREENSHOTS (default: the test's tmp dir) and are checked not blank.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

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
    last = fill_catalog(settings, days=30, sensors=4)
    alert = manage.draft_port(settings, Key(6, 5555), last - timedelta(days=3))
    server = start_server(settings)
    yield server, alert.id
    stop_server(server)


@pytest.fixture(scope="module")
def page(site: tuple[Live, str]) -> Iterator[object]:
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


def test_overview_renders_tables_and_region_chart(site: tuple[Live, str], page: object) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))  # type: ignore[attr-defined]
    page.goto(site[0].url + "/")  # type: ignore[attr-defined]
    page.wait_for_selector("#regions canvas")  # type: ignore[attr-defined]
    assert page.locator("table.ports tbody tr").count() >= 10  # type: ignore[attr-defined]
    out = shots() / "overview.png"
    page.screenshot(path=str(out), full_page=True)  # type: ignore[attr-defined]
    assert_not_blank(out)
    assert errors == []


def test_port_page_switches_window(site: tuple[Live, str], page: object) -> None:
    page.goto(site[0].url + "/ports/tcp/5555")  # type: ignore[attr-defined]
    page.wait_for_selector("#trend canvas")  # type: ignore[attr-defined]
    page.click("a[data-window='1m']")  # type: ignore[attr-defined]
    page.wait_for_selector("body[data-window='1m']", state="attached")  # type: ignore[attr-defined]
    assert page.url.endswith("?window=1m")  # type: ignore[attr-defined]
    assert "active" in (page.get_attribute("a[data-window='1m']", "class") or "")  # type: ignore[attr-defined]
    out = shots() / "port-1m.png"
    page.screenshot(path=str(out), full_page=True)  # type: ignore[attr-defined]
    assert_not_blank(out)


def test_alert_opens_from_the_archive(site: tuple[Live, str], page: object) -> None:
    live, alert_id = site
    page.goto(live.url + "/alerts")  # type: ignore[attr-defined]
    page.click(f"a[href='/alerts/{alert_id}']")  # type: ignore[attr-defined]
    page.wait_for_selector("#trend canvas")  # type: ignore[attr-defined]
    assert alert_id in page.inner_text("h1")  # type: ignore[attr-defined]
    out = shots() / "alert.png"
    page.screenshot(path=str(out), full_page=True)  # type: ignore[attr-defined]
    assert_not_blank(out)


def test_phone_layout(site: tuple[Live, str], page: object) -> None:
    page.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    page.goto(site[0].url + "/ports/tcp/445")  # type: ignore[attr-defined]
    page.wait_for_selector("#trend canvas")  # type: ignore[attr-defined]
    width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= 400
    out = shots() / "port-phone.png"
    page.screenshot(path=str(out), full_page=True)  # type: ignore[attr-defined]
    assert_not_blank(out)
