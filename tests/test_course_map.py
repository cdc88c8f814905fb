"""The course map (assets/course_map.svg) and its Korean variant (assets/ko/): every label fits inside its box,
the Korean map is the English one with the catalog's labels, and notebook 00 (English, Korean) shows the same file."""
import base64
import importlib.util
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import course_map
import korean
import matplotlib
import nbformat
from PIL import Image, ImageFont

ROOT = Path(__file__).resolve().parent.parent
MAP, PNG = ROOT / "assets" / "course_map.svg", ROOT / "assets" / "course_map.png"
SVG = "{http://www.w3.org/2000/svg}"
# DejaVu Sans (bundled with matplotlib) is wider than the Helvetica and Arial the map asks for: what fits in it fits.
FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
DEJAVU = (FONTS / "DejaVuSans.ttf", FONTS / "DejaVuSans-Bold.ttf")
# NanumGothic (bundled with koreanize_matplotlib, found without importing it: that would change matplotlib's fonts)
# is a little wider than Noto Sans CJK KR, which draws the Korean map's PNG.
NANUM = tuple(Path(importlib.util.find_spec("koreanize_matplotlib").origin).parent / "fonts" / name
              for name in ("NanumGothic.ttf", "NanumGothicBold.ttf"))


def text_width(element, fonts=DEJAVU):
    """Width in pixels of an SVG <text> in fonts (regular, bold), its bold <tspan>s measured in the bold face."""
    size = float(element.get("font-size"))
    regular, bold = (ImageFont.truetype(os.fspath(font), size) for font in fonts)
    width = bold.getlength(element.text or "") if element.get("font-weight") == "bold" else \
        regular.getlength(element.text or "")
    for span in element:
        width += (bold if span.get("font-weight") == "bold" else regular).getlength(span.text or "")
        width += regular.getlength(span.tail or "")
    return width


def assert_every_label_fits_inside_its_box(path, fonts):
    """Every label of the map at path, measured in fonts, starts in one box and ends inside it; the title fits."""
    root = ET.parse(path).getroot()
    boxes = [tuple(float(r.get(k)) for k in ("x", "y", "width", "height")) for r in root.iter(f"{SVG}rect")
             if r.get("rx")]
    texts = list(root.iter(f"{SVG}text"))
    assert len(boxes) == 9 and len(texts) == 1 + 2 * 9  # a title, then two lines per notebook
    width = float(root.get("width"))
    title = texts[0]
    assert text_width(title, fonts) <= width - 8, "the title is wider than the map"
    for text in texts[1:]:
        x, y = float(text.get("x")), float(text.get("y"))
        box = [b for b in boxes if b[0] <= x <= b[0] + b[2] and b[1] <= y <= b[1] + b[3]]
        label = "".join(text.itertext())
        assert len(box) == 1, f"{label!r} does not start inside a box"
        bx, by, bw, bh = box[0]
        assert x + text_width(text, fonts) <= bx + bw - 4, f"{label!r} runs out of its box"
        assert by + float(text.get("font-size")) <= y <= by + bh - 4, f"{label!r} is not inside its box's height"


def test_every_label_fits_inside_its_box():
    assert_every_label_fits_inside_its_box(MAP, DEJAVU)


def test_every_korean_label_fits_inside_its_box():
    assert_every_label_fits_inside_its_box(korean.MAP_SVG, NANUM)


def test_korean_course_map_catalog_translates_every_current_label():
    found = korean.map_problems()
    assert not found, "\n".join(found) + "\n(translate in i18n/ko/course_map.po: python tools/korean.py update)"


def test_korean_course_map_is_a_fresh_build_of_the_english_one_and_the_catalog():
    """assets/ko/course_map.svg is the English map with i18n/ko/course_map.po's labels (tools/korean.py checks it)."""
    assert korean.MAP_SVG.read_text(encoding="utf-8") == korean.korean_map(), (
        "assets/ko/course_map.svg is stale: python tools/korean.py map, then make ko")


def assert_notebook_shows(notebook, png, svg, redraw):
    """The notebook carries png (drawn from svg at the map's scale) in the one markdown cell showing the map."""
    nb = nbformat.read(notebook, as_version=4)
    shown = [cell for cell in nb.cells if cell.cell_type == "markdown" and "attachment:course_map.png" in cell.source]
    assert len(shown) == 1, f"{notebook.relative_to(ROOT)} shows the course map once"
    attached = base64.b64decode(shown[0].attachments["course_map.png"]["image/png"])
    assert attached == png.read_bytes(), (
        f"{notebook.relative_to(ROOT)}'s map differs from {png.relative_to(ROOT)}: {redraw}")
    with Image.open(png) as image:
        width, height = course_map.svg_size(svg)
        assert image.size == (width * course_map.SCALE, height * course_map.SCALE), (
            f"{png.relative_to(ROOT)} does not match the SVG's size: render it again with python tools/course_map.py")


def test_notebook_00_shows_the_course_map():
    """Notebook 00 carries the PNG drawn from the SVG (JupyterLab shows only bitmap attachments)."""
    assert_notebook_shows(ROOT / "notebooks" / "00_start_here.ipynb", PNG, MAP, "python tools/course_map.py")


def test_korean_notebook_00_shows_the_korean_course_map():
    assert_notebook_shows(korean.KOREAN / "00_start_here.ipynb", korean.MAP_PNG, korean.MAP_SVG,
                          "python tools/korean.py map, then make ko")
