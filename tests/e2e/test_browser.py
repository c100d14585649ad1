"""A person's path through the dashboard in a real browser: sign in, filter, click a beat on
the map, download a report. Screenshots of each page are saved for a person to check."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def _sign_in(page, base: str, username: str, password: str, path: str = "/map") -> None:
    page.goto(base + path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")


def test_sign_in_filter_click_a_beat_and_download_a_report(
    page, live_server, password, screenshots
):
    failed = []
    # A download ends its request with net::ERR_ABORTED; anything else failing is a fault.
    page.on(
        "requestfailed",
        lambda request: request.failure == "net::ERR_ABORTED" or failed.append(request.url),
    )
    _sign_in(page, live_server, "nurse", password)
    expect(page.locator("#map")).to_have_attribute("data-ready", "true", timeout=15000)
    page.screenshot(path=screenshots / "map.png", full_page=True)

    page.select_option("select[name=weapon]", "body")
    page.select_option("select[name=months]", "3")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"weapon=body"))
    expect(page.locator("#map")).to_have_attribute("data-ready", "true", timeout=15000)
    expect(page.locator("h1")).to_contain_text("Map of beats")
    page.select_option("#measure", "rate")
    expect(page.locator("#legend")).to_contain_text("hidden (suppressed)")

    # Venue points and hot-spot outlines sit above the areas; hide them to click an area.
    page.uncheck("#show-venues")
    page.uncheck("#show-hotspots")
    page.locator("#map path.leaflet-interactive").first.click()
    expect(page).to_have_url(re.compile(r"/beats/W\d+\?.*weapon=body"))
    expect(page.locator("#beat-count")).not_to_be_empty()
    expect(page.locator("table.grid")).to_be_visible()
    page.wait_for_function("document.querySelector('canvas[data-chart]').width > 0")
    page.screenshot(path=screenshots / "beat.png", full_page=True)

    page.click("text=Reports")
    with page.expect_download() as report:
        page.locator("a.report-link").first.click()
    saved = report.value.path()
    assert "<html" in saved.read_text(encoding="utf-8").lower()
    with page.expect_download() as export:
        page.click("#export-csv")
    assert export.value.path().read_text().startswith("code,name,count")
    page.screenshot(path=screenshots / "reports.png", full_page=True)
    assert not failed


def test_police_see_suppressed_figures_and_no_record_pages(
    page, live_server, password, screenshots
):
    _sign_in(page, live_server, "constable", password, path="/")
    expect(page.locator("h1")).to_contain_text("Overview")
    expect(page.locator(".notice")).to_contain_text('Counts from 1 to 4 read "<5"')
    expect(page.locator("nav")).not_to_contain_text("Our records")
    page.screenshot(path=screenshots / "overview-police.png", full_page=True)
    page.goto(live_server + "/records")
    expect(page.locator("h1")).to_contain_text("Not for your role")
