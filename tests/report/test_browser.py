"""Opens the HTML report in real headless Chromium: charts render, hostile tracker text runs nothing.

Screenshots of the summary, timeline, burn-up cone and histogram are checked for layout.
Skipped only when Chromium is absent and PLANSYNC_REQUIRE_BROWSER is unset (CI sets it, so there it runs).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from connector.report import build_report, write_report
from tests.report import history as h

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
CHROMEDRIVER = shutil.which("chromedriver") or (
    "/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)


@pytest.fixture
def browser(tmp_path):
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("PLANSYNC_REQUIRE_BROWSER"):
            pytest.fail("PLANSYNC_REQUIRE_BROWSER is set but chromium/chromedriver are not installed")
        pytest.skip("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def test_html_report_renders_charts_and_executes_nothing(browser, hostile_store, settings, tmp_path):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    report = build_report(hostile_store, h.PLAN_NOW, settings, week="2026-W48", now=h.NOW)
    page = write_report(report, tmp_path / "out", ["html"])["html"]
    browser.get(page.resolve().as_uri())

    charts = browser.find_elements(By.CSS_SELECTOR, "svg.burnup")
    assert len(charts) == len(report.milestones) == 3  # one burn-up per milestone
    for chart in charts:
        size = chart.size
        assert size["width"] > 100 and size["height"] > 50, size
        assert chart.find_elements(By.CSS_SELECTOR, "path")  # lines were drawn, not an empty frame

    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - reading it is the check
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert browser.execute_script("return document.querySelectorAll('script').length") == 0
    assert browser.execute_script("return document.querySelectorAll('body img').length") == 0
    body = browser.find_element(By.TAG_NAME, "body").text
    assert h.XSS_TITLE in body  # shown as the text it is
    assert "Stale data: tracker github" in body.split("Milestones")[0]  # called out at the top


def _laid_out(browser, element, shot_path) -> None:
    """Visible, with a real size, inside the page width, and a screenshot that is not one flat colour."""
    import io

    from PIL import Image

    assert element.is_displayed()
    rect = browser.execute_script("const r = arguments[0].getBoundingClientRect();"
                                  "return [r.left, r.right, r.width, r.height, document.documentElement.clientWidth];",
                                  element)
    left, right, width, height, page_width = rect
    assert width > 100 and height > 40, rect
    assert left >= 0 and right <= page_width + 1, rect  # not cut off at either side
    png = element.screenshot_as_png
    shot_path.write_bytes(png)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.width > 100 and image.height > 40
    colours = image.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 8, "the screenshot is blank"


def test_screenshots_of_the_summary_timeline_cone_and_histogram(browser, hostile_store, settings, tmp_path):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    report = build_report(hostile_store, h.PLAN_NOW, settings, week="2026-W48", now=h.NOW)
    page = write_report(report, tmp_path / "out", ["html"])["html"]
    # kept for a human look when PLANSYNC_SCREENSHOTS names a folder (CI uploads it)
    shots = Path(os.environ.get("PLANSYNC_SCREENSHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    for width in (1280, 760):  # a desktop window and a narrow one: nothing overflows either
        browser.set_window_size(width, 1000)
        browser.get(page.resolve().as_uri())
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"), width

        summary = browser.find_element(By.ID, "summary")
        first_screen = browser.execute_script("return arguments[0].getBoundingClientRect().top", summary)
        assert first_screen < 400  # the summary is on the first screen
        _laid_out(browser, summary, shots / f"summary-{width}.png")
        rows = summary.find_elements(By.CSS_SELECTOR, "table.summary tr")
        assert len(rows) == 1 + len(report.milestones)

        timeline = browser.find_element(By.CSS_SELECTOR, "svg.timeline")
        _laid_out(browser, timeline, shots / f"timeline-{width}.png")
        assert timeline.find_elements(By.CSS_SELECTOR, "#planned-0, #planned-1, #planned-2")
        assert timeline.find_elements(By.CSS_SELECTOR, "#today")

        beta = browser.find_elements(By.CSS_SELECTOR, "svg.burnup")[0]
        _laid_out(browser, beta, shots / f"burnup-beta-{width}.png")
        cone = beta.find_elements(By.CSS_SELECTOR, "#forecast-cone path")
        assert cone and cone[0].size["width"] > 5, "the burn-up has no forecast cone"

        hist = browser.find_element(By.CSS_SELECTOR, "svg.histogram")
        _laid_out(browser, hist, shots / f"histogram-beta-{width}.png")
        assert len(hist.find_elements(By.CSS_SELECTOR, "[id^=hist-bar-] path")) >= 3

    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - reading it is the check
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert browser.execute_script("return document.querySelectorAll('script').length") == 0
    assert h.XSS_TITLE in browser.find_element(By.TAG_NAME, "body").text


def test_the_index_and_week_links_work_in_the_browser(browser, seeded, settings, tmp_path):
    from selenium.webdriver.common.by import By

    out = tmp_path / "out"
    for week in ("2026-W47", "2026-W48"):
        write_report(build_report(seeded, h.PLAN_NOW, settings, week=week, now=h.NOW), out, ["html", "json"])
    browser.get((out / "index.html").resolve().as_uri())
    links = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "table a")]
    assert links[:2] == ["2026-W48", "2026-W47"]
    browser.find_element(By.LINK_TEXT, "2026-W47").click()
    assert "weekly report 2026-W47" in browser.title
    browser.find_element(By.CSS_SELECTOR, "a[rel=next]").click()
    assert "weekly report 2026-W48" in browser.title
    browser.find_element(By.LINK_TEXT, "all weeks").click()
    assert browser.current_url.endswith("/index.html")
