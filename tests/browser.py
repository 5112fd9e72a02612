"""Headless Debian Chromium driven by selenium, with every network request recorded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import urlparse

from conftest import REPO, require

SCREENSHOTS = REPO / "artifacts" / "screenshots"


def chromium():
    """A headless Chromium, or skip/fail (CI) when it is not installed."""
    binary = shutil.which("chromium") or "/usr/bin/chromium"
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    require(
        Path(binary).exists() and Path(driver).exists(),
        "Chromium not installed: apt-get install -y chromium chromium-driver",
    )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1800",
        # Keep sandboxed iframes (bertviz) in the page's process, so their requests
        # appear in the page's performance log that outside_requests() checks.
        "--disable-features=IsolateSandboxedIframes",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return webdriver.Chrome(service=Service(driver), options=opts)


def requested_urls(driver) -> list[str]:
    """Every URL the page asked for so far (Chrome DevTools performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def outside_requests(urls: list[str]) -> list[str]:
    """URLs that would leave this machine (anything but 127.0.0.1/localhost, data: and blob:)."""
    bad = []
    for url in urls:
        parsed = urlparse(url)
        if parsed.scheme in ("data", "blob", "about", "chrome-extension"):
            continue
        if parsed.hostname not in ("127.0.0.1", "localhost"):
            bad.append(url)
    return bad
