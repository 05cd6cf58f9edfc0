"""The dashboard and the demo storefront in a real browser (Playwright driving Debian's Chromium)
against a live local host: the storefront's clicks post activity with the decision's eventId,
and the dashboard's numbers move. Screenshots (phone and desktop) go to test-artifacts/."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import (
    LiveHost,
)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def host(shop_host: LiveHost) -> LiveHost:
    return shop_host


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    assert Path(CHROMIUM).exists(), "Chromium is missing: `make test` installs it (apt chromium)"
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


def open_page(browser: object, url: str, viewport: dict[str, int]) -> tuple[object, list[str]]:
    page = browser.new_page(viewport=viewport)  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page, errors


def unlabelled_controls(page: object) -> list[str]:
    """Inputs, selects and buttons a keyboard or screen-reader user could not name."""
    return page.evaluate(  # type: ignore[attr-defined, no-any-return]
        """() => [...document.querySelectorAll('input, select, button')]
             .filter(c => !(c.closest('label') || c.getAttribute('aria-label')
                            || c.textContent.trim()))
             .map(c => c.outerHTML)"""
    )


def offer_clicks(page: object, offer: str) -> int:
    cell = page.locator(f'#offer-table tr[data-offer="{offer}"] td:nth-child(3)')  # type: ignore[attr-defined]
    return int(cell.inner_text()) if cell.count() else 0


def test_storefront_clicks_move_the_dashboard(host: LiveHost, browser: object) -> None:
    base = host.base.removesuffix("/api")
    dash, dash_errors = open_page(browser, f"{base}/", DESKTOP)
    dash.wait_for_selector("#model .kpi")  # type: ignore[attr-defined]
    store, store_errors = open_page(browser, f"{base}/store", PHONE)
    store.select_option("#persona", "family")  # type: ignore[attr-defined]
    store.select_option("#time", "morning")  # type: ignore[attr-defined]
    store.keyboard.press("Tab")  # type: ignore[attr-defined]
    store.click("#show")  # type: ignore[attr-defined]
    first = store.locator(".offer").first  # type: ignore[attr-defined]
    first.wait_for()
    offer = first.get_attribute("data-offer")
    assert offer and "Why:" in first.inner_text()
    before = offer_clicks(dash, offer)
    first.get_by_role("button", name="View offer").click()
    first.get_by_role("button", name="Buy").click()
    store.wait_for_function(  # type: ignore[attr-defined]
        "() => document.querySelector('#log').textContent.includes('purchase')"
    )
    assert "accepted 1" in store.locator("#log").inner_text()  # type: ignore[attr-defined]
    store.screenshot(path=str(ARTIFACTS / "store-phone.png"), full_page=True)  # type: ignore[attr-defined]

    deadline = time.monotonic() + 45
    while time.monotonic() < deadline and offer_clicks(dash, offer) <= before:
        time.sleep(1)  # the dashboard refreshes itself every 5 s
    assert offer_clicks(dash, offer) == before + 1
    dash.wait_for_selector("#rate svg.chart path", timeout=15_000)  # type: ignore[attr-defined]
    dash.screenshot(path=str(ARTIFACTS / "dashboard-desktop.png"), full_page=True)  # type: ignore[attr-defined]
    dash.set_viewport_size(PHONE)  # type: ignore[attr-defined]
    dash.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)  # type: ignore[attr-defined]
    width = dash.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= PHONE["width"] + 1, "the dashboard scrolls sideways at phone width"
    assert unlabelled_controls(dash) == [] and unlabelled_controls(store) == []
    assert dash_errors == [] and store_errors == []


def test_customer_panel_and_simulation_panel(host: LiveHost, browser: object) -> None:
    base = host.base.removesuffix("/api")
    dash, errors = open_page(browser, f"{base}/", DESKTOP)
    dash.fill("#customer-id", "store-family-1")  # type: ignore[attr-defined]
    dash.press("#customer-id", "Enter")  # type: ignore[attr-defined]
    dash.wait_for_function(  # type: ignore[attr-defined]
        "() => document.querySelector('#customer').textContent.includes('Segment')", timeout=30_000
    )
    assert "family" in dash.locator("#customer").inner_text()  # type: ignore[attr-defined]
    dash.select_option("#sim-scenario", "tomanna")  # type: ignore[attr-defined]
    dash.fill("#sim-visitors", "20")  # type: ignore[attr-defined]
    dash.click("text=Start a simulation")  # type: ignore[attr-defined]
    dash.wait_for_selector("#sim [role=progressbar]", timeout=30_000)  # type: ignore[attr-defined]
    dash.wait_for_selector("#sim svg.chart", timeout=30_000)  # type: ignore[attr-defined]
    dash.click("#sim-stop")  # type: ignore[attr-defined]
    dash.screenshot(path=str(ARTIFACTS / "dashboard-simulation.png"), full_page=True)  # type: ignore[attr-defined]
    assert errors == []
