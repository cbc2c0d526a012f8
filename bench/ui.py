"""The web page's API latency on a real warehouse (the demo's), beside the pandas peer of bench.query.

    python -m bench.ui [--home WAREHOUSE] [--repeat 10] [--json]

Starts `sentiment ui`'s app under uvicorn on 127.0.0.1, then times each call the page makes, over
HTTP as the browser makes it: the first call (cold: footers, the model loaded for `explain`) and
the median of `--repeat` more. The peer: the weekly trend of the busiest source in pandas over the
daily table read with pyarrow, in the same run. Where chromium and chromedriver are installed, also
the time until the page has drawn its chart (headless chromium, `performance.now()` when ready).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import uvicorn

from bench.browser import headless_chromium
from bench.measure import report
from bench.query import _median_ms, _pandas_weekly
from sentiment.settings import Settings, resolved
from sentiment.warehouse import Warehouse
from sentiment_ui.app import create_app

TARGET_MS = 200


def _serve(warehouse: Warehouse) -> tuple[str, uvicorn.Server]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(warehouse), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def _time(url: str, repeat: int) -> dict:
    started = time.perf_counter()
    _get(url)
    first = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        _get(url)
        times.append((time.perf_counter() - started) * 1000)
    median, slowest = statistics.median(times), max(times)
    return {"first_ms": round(first, 1), "median_ms": round(median, 1), "max_ms": round(slowest, 1)}


def _calls(base: str, meta: dict) -> dict[str, str]:
    """The calls the page makes, on this warehouse's busiest source, its last day and first document."""
    source = meta["sources"][0]["name"]
    second = meta["sources"][1]["name"] if len(meta["sources"]) > 1 else source
    last = meta["last"]
    window = {"start": f"{last}T00:00:00Z", "end": f"{last}T23:59:59Z"}
    q = urllib.parse.urlencode
    calls = {
        "meta": "/api/meta",
        "trend_day_all": "/api/trend?" + q({"by": "day"}),
        "trend_week_source": "/api/trend?" + q({"by": "week", "source": source}),
        "trend_month_two_sources": "/api/trend?" + q([("by", "month"), ("source", source), ("source", second)]),
        "trend_hour_source": "/api/trend?" + q({"by": "hour", "source": source, "from": last, "to": last}),
        "documents_day_negative": "/api/documents?" + q({**window, "limit": 100}),
        "documents_day_search": "/api/documents?" + q({**window, "q": "the", "limit": 100}),
        "runs": "/api/runs",
        "model": "/api/model",
        "alerts": "/api/alerts",
        "export_trend_csv": "/api/export/trend.csv?" + q({"by": "day"}),
    }
    docs = json.loads(_get(base + calls["documents_day_negative"]))["rows"]
    if docs:
        doc = docs[0]
        calls["explain"] = "/api/explain?" + q({"doc_id": doc["doc_id"], "date": doc["date"], "source": doc["source"]})
    return calls


def _wait_ready(driver, condition: str = "return document.body.dataset.ready === 'true'") -> bool:
    deadline = time.monotonic() + 30
    while not driver.execute_script(condition):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _page_ready_ms(driver, base: str) -> float | None:
    """Milliseconds from navigation until the chart is drawn; the best of two loads after a first
    one (which also fills the browser's cache of the scripts, as a returning user has it)."""
    times = []
    for _ in range(3):
        driver.get(base + "/")
        if not _wait_ready(driver):
            return None
        times.append(driver.execute_script("return performance.now()"))
    return round(min(times[1:]), 1)


def _screenshots(driver, base: str, view: str, directory: Path) -> None:
    """The trend view of `view` (a query string) and the explanation of its first drilled document."""
    from selenium.webdriver.common.by import By

    directory.mkdir(parents=True, exist_ok=True)
    driver.get(f"{base}/?{view}")
    _wait_ready(driver)
    _wait_ready(driver, "return document.querySelectorAll('#documents tbody tr').length > 0")
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(directory / "ui-trend.png"))
    driver.find_elements(By.CSS_SELECTOR, "#documents tbody tr")[0].click()
    _wait_ready(driver, "return document.querySelector('#why-chart .hm') !== null")
    time.sleep(0.5)
    driver.execute_script("document.getElementById('why').scrollIntoView()")
    driver.save_screenshot(str(directory / "ui-explain.png"))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", default=None, help="the warehouse (default: $SENTIMENT_HOME or ./warehouse)")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--screenshots", type=Path, help="also save the page's screenshots in this directory")
    parser.add_argument(
        "--view", default="by=hour", help="the page's query string for the screenshots (with window_start/window_end)"
    )
    args = parser.parse_args(argv)
    warehouse = Warehouse(resolved(args.home) if args.home else Settings.from_env().home)
    base, server = _serve(warehouse)
    try:
        meta = json.loads(_get(base + "/api/meta"))
        if meta.get("empty"):
            raise SystemExit(f"no scored days in {warehouse.root}: run `sentiment demo` first")
        calls = _calls(base, meta)
        timings = {name: _time(base + path, args.repeat) for name, path in calls.items()}
        source = meta["sources"][0]["name"]
        peer = _median_ms(lambda: _pandas_weekly(warehouse, source), args.repeat)
        driver = headless_chromium()
        page = None
        if driver is not None:
            try:
                page = _page_ready_ms(driver, base)
                if args.screenshots:
                    _screenshots(driver, base, args.view, args.screenshots)
            finally:
                driver.quit()
    finally:
        server.should_exit = True
    result = {
        "warehouse": str(warehouse.root),
        "calls": timings,
        "slowest_median_ms": max(t["median_ms"] for t in timings.values()),
        "calls_over_target": sorted(n for n, t in timings.items() if t["median_ms"] > TARGET_MS),
        "pandas_week_source_ms": peer,
        "ratio_trend_week_vs_pandas": round(timings["trend_week_source"]["median_ms"] / peer, 3),
        "page_ready_ms": page,
        "target_ms": TARGET_MS,
    }
    return report("ui", result, args.json)


if __name__ == "__main__":
    main()
