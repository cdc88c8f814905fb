"""Maintainers' tool: render assets/course_map.svg to assets/course_map.png and attach the PNG to notebook 00.

    python tools/course_map.py      # needs Chromium (make browser-deps), as the browser tests do

The SVG is the source (the README shows it); JupyterLab renders only bitmap attachments in markdown,
so notebook 00 carries the PNG. tests/test_course_map.py checks that both stay in step.
"""
import base64
import os
import sys
from pathlib import Path

import nbformat
from nbtools import write

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this repository's helpers, also as a script
from helpers.files import replacing  # noqa: E402

SVG, PNG = ROOT / "assets" / "course_map.svg", ROOT / "assets" / "course_map.png"
NOTEBOOK = ROOT / "notebooks" / "00_start_here.ipynb"
SCALE = 2  # screen pixels per SVG unit: sharp on high-density screens
NAME = "course_map.png"


def svg_size(path=SVG):
    """(width, height) the SVG declares."""
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()
    return int(float(root.get("width"))), int(float(root.get("height")))


def render(chromium=None):
    """Draw the SVG with headless Chromium into the PNG (written through a rename)."""
    chromium = chromium or os.environ.get("CHROMIUM", "/usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    width, height = svg_size()
    args = ["--disable-gpu"] + (["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])
    with sync_playwright() as pw, replacing(PNG) as tmp:
        browser = pw.chromium.launch(executable_path=chromium, args=args)
        page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=SCALE)
        page.goto(SVG.as_uri())
        page.screenshot(path=str(tmp), type="png")
        browser.close()


def attach():
    """Put the PNG into notebook 00's markdown cell that shows the map."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "markdown" and f"attachment:{NAME}" in c.source]
    if len(cells) != 1:
        raise SystemExit(f"{NOTEBOOK.name}: expected one markdown cell showing attachment:{NAME}")
    cells[0].attachments = {NAME: {"image/png": base64.b64encode(PNG.read_bytes()).decode()}}
    write(nb, NOTEBOOK)


if __name__ == "__main__":
    render()
    attach()
    print("course map:", PNG.relative_to(ROOT), "rendered and attached to", NOTEBOOK.name)
