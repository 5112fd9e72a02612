"""One clean screenshot per tab, for the README: headless Chromium at a fixed window size.

    python tools/screenshots.py                    # starts the app, writes assets/screenshots/<view>.png
    python tools/screenshots.py --url http://127.0.0.1:7860/ --out /tmp/shots

Each tab is shown with its default input once every figure in it is drawn and no toast is
up (the script fails rather than save a screenshot with a warning over it). Needs Debian's
chromium and chromium-driver, and selenium (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

WINDOW = (1400, 1400)  # the README shows the first screen of each tab at this size
READY = (
    "const shown = [...document.querySelectorAll('.js-plotly-plot, [id$=-status], [id$=-summary]')]"
    ".filter(e => e.offsetParent !== null);"
    "const busy = [...document.querySelectorAll('.progress-text, .eta-bar, .generating')].filter(e => e.offsetParent !== null);"
    "return shown.length > 0 && busy.length === 0 && shown.every(e => e.innerText.trim().length > 0 || e.querySelector('svg'));"
)


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                 f"--window-size={WINDOW[0]},{WINDOW[1]}"):  # fmt: skip
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)


def wait(driver, script: str, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if driver.execute_script(script):
            return
        time.sleep(0.3)
    raise RuntimeError(f"timed out waiting for {what}")


def take(url: str, out: Path, timeout: float = 240) -> list[Path]:
    """A PNG per view of explorer.VIEWS, named by its API name; returns the paths."""
    from explorer import VIEWS

    out.mkdir(parents=True, exist_ok=True)
    driver = browser()
    paths = []
    try:
        driver.get(url)
        for view in VIEWS:
            driver.execute_script(
                "for (const b of document.querySelectorAll('button[role=tab]'))"
                " if (b.innerText.trim() === arguments[0]) { b.click(); return; }",
                view.title,
            )
            wait(driver, READY, timeout, f"the {view.title} tab to be drawn")
            time.sleep(1.5)  # plotly's last relayout
            wait(driver, "return document.querySelectorAll('.toast-body').length === 0", 20, "toasts to go")
            driver.execute_script("window.scrollTo(0, 0)")
            path = out / f"{view.api_name}.png"
            driver.save_screenshot(str(path))
            paths.append(path)
    finally:
        driver.quit()
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running app (default: start one on a free port)")
    parser.add_argument("--out", type=Path, default=REPO / "assets" / "screenshots")
    args = parser.parse_args()
    if args.url:
        paths = take(args.url, args.out)
    else:
        from bench.startup import App, child_env

        log = Path(tempfile.mkdtemp(prefix="screenshots-")) / "app.log"
        app = App(child_env(), log)
        try:
            app.wait()
            paths = take(app.url, args.out)
        finally:
            app.stop()
    for path in paths:
        print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)


if __name__ == "__main__":
    main()
