"""One clean screenshot per tab, for the README: headless Chromium at a fixed window size.

    python tools/screenshots.py                    # starts the app, writes assets/screenshots/<view>.png
    python tools/screenshots.py --url http://127.0.0.1:7860/ --out /tmp/shots
    python tools/screenshots.py --sizes            # also a projector (1280x720) and a phone (390x844)
                                                   # picture of each tab: <view>_1280x720.png, <view>_390x844.png

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

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.startup import App, child_env  # noqa: E402

WINDOW = (1400, 1400)  # the README shows the first screen of each tab at this size
PROJECTOR, PHONE = (1280, 720), (390, 844)  # a classroom projector; a phone's CSS viewport (iPhone 12-15)
READY = (  # the tab's own figures and status drawn; the Inside sub-tabs compute on request only
    "const shown = [...document.querySelectorAll('.js-plotly-plot, [id$=-status], [id$=-summary]')]"
    ".filter(e => e.offsetParent !== null && !e.closest('#inside-tabs') && !e.closest('.section-status'));"
    "const busy = [...document.querySelectorAll('.progress-text, .eta-bar, .generating')].filter(e => e.offsetParent !== null);"
    "return shown.length > 0 && busy.length === 0 && shown.every(e => e.innerText.trim().length > 0 || e.querySelector('svg'));"
)


def browser(window: tuple[int, int] = WINDOW):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                 f"--window-size={window[0]},{window[1]}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
    # The viewport itself, not the window: headless Chromium's window has no browser chrome, but
    # a phone viewport needs its width exactly (CSS media queries read it).
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": window[0], "height": window[1], "deviceScaleFactor": 1, "mobile": window[0] < 600},
    )
    return driver


def wait(driver, script: str, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if driver.execute_script(script):
            return
        time.sleep(0.3)
    raise RuntimeError(f"timed out waiting for {what}")


# The page scrolls sideways when its content is wider than the viewport (a figure too wide for its box).
PAGE_WIDTH = "return [document.documentElement.scrollWidth, window.innerWidth]"


def take(url: str, out: Path, timeout: float = 240, window: tuple[int, int] = WINDOW, suffix: str = "") -> list[Path]:
    """A PNG per view of explorer.VIEWS, named by its API name (+ suffix); returns the paths.
    Prints a line for a tab whose page is wider than the window (it would scroll sideways)."""
    from explorer import VIEWS  # not at the top: `--help` answers without importing gradio (3 s)

    out.mkdir(parents=True, exist_ok=True)
    driver = browser(window)
    paths = []
    try:
        for view in VIEWS:
            # Each tab by its deep link (explorer/web/deep_links.py), with its default inputs: on a
            # phone most tab buttons are not where a click could reach them.
            driver.get(f"{url.rstrip('/')}/?view={view.api_name}")
            wait(driver, READY, timeout, f"the {view.title} tab to be drawn")
            time.sleep(1.5)  # plotly's last relayout
            wait(driver, "return document.querySelectorAll('.toast-body').length === 0", 20, "toasts to go")
            driver.execute_script("window.scrollTo(0, 0)")
            wide, shown = driver.execute_script(PAGE_WIDTH)
            if wide > shown:
                print(f"{view.api_name}: the page is {wide} px wide in a {shown} px window", file=sys.stderr)
            path = out / f"{view.api_name}{suffix}.png"
            driver.save_screenshot(str(path))
            paths.append(path)
    finally:
        driver.quit()
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running app (default: start one on a free port)")
    parser.add_argument("--out", type=Path, default=REPO / "assets" / "screenshots")
    parser.add_argument("--sizes", action="store_true", help="also 1280x720 (projector) and 390x844 (phone)")
    args = parser.parse_args()

    def all_pictures(url: str) -> list[Path]:
        paths = take(url, args.out)
        if args.sizes:
            for window in (PROJECTOR, PHONE):
                paths += take(url, args.out, window=window, suffix=f"_{window[0]}x{window[1]}")
        return paths

    if args.url:
        paths = all_pictures(args.url)
    else:
        log = Path(tempfile.mkdtemp(prefix="screenshots-")) / "app.log"
        app = App(child_env(), log)
        try:
            app.wait()
            paths = all_pictures(app.url)
        finally:
            app.stop()
    for path in paths:
        print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)


if __name__ == "__main__":
    main()
