"""Screenshot of the demo's report.html for the README (docs/img/report.png), taken in headless Chromium.

Runs ``omniplug demo`` into a folder (or reuses one with ``--from``, or with
``--sample`` writes the same world's tables directly, with the asset groups
of the world's truth: see :mod:`omniplug.report.sample`), writes
its report with thumbnails drawn from the demo world (the simulators that
served the media have stopped by then), opens it in headless Chromium
through Selenium and saves a PNG of the top of the page.

Usage::

    .venv/bin/python scripts/screenshot_report.py                  # demo into a temporary folder
    .venv/bin/python scripts/screenshot_report.py --from demo-out  # an existing demo folder
    .venv/bin/python scripts/screenshot_report.py --sample         # the demo world's tables, no simulators
    .venv/bin/python scripts/screenshot_report.py --height 0       # the whole page

Needs ``chromium`` and ``chromedriver`` (Debian: ``apt-get install -y chromium
chromium-driver fonts-noto-cjk``) and ``pip install selenium``;
``OMNIPLUG_CHROMIUM`` / ``OMNIPLUG_CHROMEDRIVER`` point at other binaries.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path


def _binary(env: str, names: tuple[str, ...]) -> str:
    found = os.environ.get(env) or next((p for n in names if (p := shutil.which(n))), None)
    if not found:
        sys.exit(f"screenshot_report: {names[0]} not found; apt-get install -y chromium chromium-driver "
                 f"fonts-noto-cjk (or set {env})")
    return found


def _report(folder: Path | None, work: Path, seed: int, scale: float, sample: bool) -> Path:
    from omniplug.report import build_report
    from omniplug.report.sample import world_media, write_sample_outputs
    from omniplug.world import WorldConfig, build_world

    if sample:
        folder = work / "sample-out"
        write_sample_outputs(folder, scale=scale, seed=seed, media_files=False)
    elif folder is None:
        from omniplug.demo import run_demo
        from omniplug.plugins import load_registry

        folder = work / "demo-out"
        result = run_demo(load_registry(), folder, seed=seed, scale=scale)
        if not result.matches_truth:
            sys.exit("screenshot_report: the demo did not match its world; fix that first")
    # The world is deterministic: rebuilt from the same seed and scale it draws the same media.
    world = build_world(WorldConfig(seed=seed).scaled(scale))
    return build_report(folder, work / "report.html", media=world_media(world))


def _screenshot(page: Path, png: Path, width: int, height: int) -> None:
    from PIL import Image
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                f"--window-size={width},1000", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    options.binary_location = _binary("OMNIPLUG_CHROMIUM", ("chromium", "chromium-browser", "google-chrome"))
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(_binary("OMNIPLUG_CHROMEDRIVER", ("chromedriver",))))
    try:
        driver.get(page.resolve().as_uri())
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        if errors:
            sys.exit(f"screenshot_report: the page logged errors: {errors}")
        full = int(driver.execute_script("return document.documentElement.scrollHeight"))
        driver.set_window_size(width, full if height <= 0 else min(full, height))
        shot = Image.open(io.BytesIO(driver.get_screenshot_as_png()))
    finally:
        driver.quit()
    png.parent.mkdir(parents=True, exist_ok=True)
    shot.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(png, optimize=True)


def main() -> None:
    """Parse the arguments, make the report, save the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="folder", type=Path, help="an existing `omniplug demo` output folder")
    parser.add_argument("--sample", action="store_true",
                        help="write the demo world's tables directly (no simulators, truth asset groups)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the demo world (default 7, the demo's)")
    parser.add_argument("--scale", type=float, default=1.0, help="scale of the demo world (default 1)")
    parser.add_argument("--png", type=Path, default=Path("docs/img/report.png"), help="where to save the PNG")
    parser.add_argument("--width", type=int, default=1280, help="browser window width in pixels")
    parser.add_argument("--height", type=int, default=2600, help="pixels of the page to keep (0: all of it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="omniplug-shot-") as tmp:
        page = _report(args.folder, Path(tmp), args.seed, args.scale, args.sample)
        _screenshot(page, args.png, args.width, args.height)
    print(f"screenshot_report: {args.png} ({args.png.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
