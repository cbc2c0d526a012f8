"""Headless Debian chromium through its chromedriver (Selenium), for the web page's benchmark and test."""

from __future__ import annotations

import shutil

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1100")


def available() -> bool:
    return bool(shutil.which("chromium") and shutil.which("chromedriver"))


def headless_chromium():
    """A Chrome driver on /usr/bin/chromium, or None where chromium or chromedriver is missing
    (`apt-get install chromium chromium-driver`; Selenium never downloads a browser here)."""
    if not available():
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.set_page_load_timeout(30)
    return driver
