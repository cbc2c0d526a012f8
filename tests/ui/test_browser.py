"""The web page in a real browser: Debian's chromium, headless, driven through chromedriver by Selenium,
against `sentiment ui` started as users start it. Screenshots go to $SENTIMENT_SCREENSHOTS (default:
the test's temporary directory; the README's come from here)."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bench.browser import available, headless_chromium

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not available(),
        reason="no chromium/chromedriver: `apt-get install chromium chromium-driver` (make test does it where it can)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(scored_lake):
    wh = scored_lake
    port = _free_port()
    command = [sys.executable, "-m", "sentiment_cli", "ui", "--home", str(wh.root), "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/api/meta", timeout=2)
            break
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"sentiment ui exited: {process.stdout.read()}")
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    driver = headless_chromium()
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    directory = Path(os.environ.get("SENTIMENT_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _wait(driver, condition, seconds: float = 20.0, what: str = "the page"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = driver.execute_script(condition)
        if value:
            return value
        time.sleep(0.05)
    errors = driver.execute_script("return document.getElementById('error').textContent")
    pytest.fail(f"timed out waiting for {what} ({condition}); page error: {errors!r}")


def _series(driver) -> list[str]:
    return driver.execute_script(
        "return document.getElementById('chart').data.filter(t => t.customdata && t.type !== 'bar').map(t => t.name)"
    )


def test_trend_drill_down_and_explanation_in_a_browser(server, browser, shots):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    browser.get(server + "/?by=hour")
    _wait(browser, "return document.body.dataset.ready === 'true'", what="the page to draw")
    usable_ms = browser.execute_script("return performance.now()")
    # the chart is drawn: an SVG with a line and bars
    points = browser.find_elements(By.CSS_SELECTOR, "#chart .scatterlayer .trace .points path")
    assert len(points) > 4 and browser.find_elements(By.CSS_SELECTOR, "#chart .barlayer .point")
    assert _series(browser) == ["all sources"]
    browser.save_screenshot(str(shots / "ui-trend-hourly.png"))

    # by day, two sources side by side: the chart changes and the URL holds the view
    browser.find_element(By.CSS_SELECTOR, "#by option[value=day]").click()
    for name in ("twitter", "reddit_worldnews"):
        browser.find_element(By.CSS_SELECTOR, f"#sources input[value={name}]").click()
    _wait(
        browser,
        "return document.getElementById('chart').data.filter(t => t.customdata && t.type !== 'bar').length === 2",
    )
    assert _series(browser) == ["twitter", "reddit_worldnews"]
    assert "source=twitter&source=reddit_worldnews" in browser.current_url and "by=day" in browser.current_url
    browser.save_screenshot(str(shots / "ui-trend.png"))

    # clicking a day lists its documents, most negative first
    point = browser.find_elements(By.CSS_SELECTOR, "#chart .scatterlayer .trace .points path")[0]
    ActionChains(browser).move_to_element(point).pause(0.3).click().perform()
    rows = _wait(browser, "return document.querySelectorAll('#documents tbody tr').length", what="documents")
    assert rows > 0
    title = browser.find_element(By.ID, "drill-title").text
    assert title.startswith("Documents from 2015-02-17 00:00:00")
    scores = [float(td.text) for td in browser.find_elements(By.CSS_SELECTOR, "#documents tbody tr td:nth-child(8)")]
    assert scores == sorted(scores)
    assert "window_start=2015-02-17T00" in browser.current_url

    # a document's explanation: running probabilities above, the gates as a heat map below
    browser.find_elements(By.CSS_SELECTOR, "#documents tbody tr")[0].click()
    _wait(browser, "return !document.getElementById('why').hidden && document.querySelector('#why-chart .hm')")
    tokens = browser.execute_script("return document.getElementById('why-chart').layout.xaxis.ticktext")
    assert len(tokens) >= 1
    browser.execute_script("document.getElementById('why').scrollIntoView()")
    browser.save_screenshot(str(shots / "ui-explain.png"))

    # the link holds the view: opened afresh it shows the same series and documents
    browser.get(browser.current_url)
    _wait(browser, "return document.body.dataset.ready === 'true'")
    _wait(browser, "return document.querySelectorAll('#documents tbody tr').length", what="documents again")
    assert _series(browser) == ["twitter", "reddit_worldnews"]

    # runs and model
    browser.find_element(By.CSS_SELECTOR, ".tab[data-tab=runs]").click()
    _wait(browser, "return document.querySelectorAll('#runs tbody tr').length")
    assert "2015-02-17" in browser.find_element(By.ID, "runs").text
    assert browser.find_element(By.ID, "card").text.startswith("# Sentiment model")
    (shots / "ui-timing.json").write_text(json.dumps({"usable_ms": usable_ms}))
    print(f"page usable after {usable_ms:.0f} ms; screenshots in {shots}")
