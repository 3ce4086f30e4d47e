"""Opens the HTML report in real headless Chromium: charts render, hostile tracker text runs nothing.

Skipped only when Chromium is absent and PLANSYNC_REQUIRE_BROWSER is unset (CI sets it, so there it runs).
"""

from __future__ import annotations

import os
import shutil

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
