"""Maintainers' tool: draw the course map, assets/course_map.svg, as the PNG notebook 00 shows.

    python tools/course_map.py   # needs Chromium (make browser-deps), as the browser tests do

The SVG is the source (the README shows it); JupyterLab renders only bitmap attachments in markdown, so notebook 00
carries the PNG, assets/course_map.png. The Korean map, assets/ko/course_map.svg, is the English one relabelled
(`relabeled`) with i18n/ko/course_map.po (msgctxt "04": the words after box 04's bold number, which stays; "04.1":
the line under them; "title"): `python tools/korean.py map` writes and draws it, `make ko` attaches it to
notebooks/ko/00_start_here.ipynb. tests/test_course_map.py checks that all of them stay in step and that every
label fits its box.
"""
import base64
import os
import sys
import xml.etree.ElementTree as ET
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
NS = "http://www.w3.org/2000/svg"
KOREAN_FONTS = "'Noto Sans CJK KR', NanumGothic, sans-serif"  # a Hangul font first (fonts-noto-cjk draws it)


def svg_size(path=SVG):
    """(width, height) the SVG declares."""
    root = ET.parse(path).getroot()
    return int(float(root.get("width"))), int(float(root.get("height")))


def label_parts(text):
    """(number, words) of an SVG <text>: a box's bold leading number (None for other lines) and its words."""
    spans = list(text)
    if not spans:
        return None, text.text or ""
    if len(spans) > 1 or (text.text or "").strip() or spans[0].get("font-weight") != "bold":
        raise ValueError(f"a map label is either plain text or a bold number and words: {ET.tostring(text)!r}")
    return spans[0].text, spans[0].tail or ""


def labelled(root):
    """[(key, <text>)] of an SVG's labels: 'title', a box's number ('04') and the lines under it ('04.1')."""
    found, number, count = [], "title", 0
    for text in root.iter(f"{{{NS}}}text"):
        lead, _ = label_parts(text)
        if lead is not None:
            number, count = lead, 0
        found.append((number if count == 0 else f"{number}.{count}", text))
        count += 1
    return found


def labels(path=SVG):
    """{key: English words} of the map's labels, in drawing order (the words a translation replaces)."""
    return {key: label_parts(text)[1].strip() for key, text in labelled(ET.parse(path).getroot())}


def relabeled(words, font_family, path=SVG):
    """The SVG text of the map with each label's words replaced by words[key], drawn in font_family."""
    ET.register_namespace("", NS)
    root = ET.parse(path).getroot()
    root.set("font-family", font_family)
    for key, text in labelled(root):
        number, old = label_parts(text)
        new = old[:len(old) - len(old.lstrip())] + words[key] + old[len(old.rstrip()):]  # keeps the spaces around
        if number is None:
            text.text = new
        else:
            text[0].tail = new
    return ET.tostring(root, encoding="unicode") + "\n"


def render(svg=SVG, png=PNG, chromium=None):
    """Draw an SVG with headless Chromium into a PNG (written through a rename)."""
    chromium = chromium or os.environ.get("CHROMIUM", "/usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    width, height = svg_size(svg)
    args = ["--disable-gpu"] + (["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])
    with sync_playwright() as pw, replacing(png) as tmp:
        browser = pw.chromium.launch(executable_path=chromium, args=args)
        page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=SCALE)
        page.goto(svg.as_uri())
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
