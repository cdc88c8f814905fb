"""The course map (assets/course_map.svg): every label fits inside its box, and notebook 00 shows the same file."""
import base64
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import course_map
import matplotlib
import nbformat
from PIL import Image, ImageFont

ROOT = Path(__file__).resolve().parent.parent
MAP, PNG = ROOT / "assets" / "course_map.svg", ROOT / "assets" / "course_map.png"
SVG = "{http://www.w3.org/2000/svg}"
# DejaVu Sans (bundled with matplotlib) is wider than the Helvetica and Arial the map asks for: what fits in it fits.
FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def text_width(element):
    """Width in pixels of an SVG <text>, its bold <tspan>s measured in the bold face."""
    size = float(element.get("font-size"))
    regular = ImageFont.truetype(os.fspath(FONTS / "DejaVuSans.ttf"), size)
    bold = ImageFont.truetype(os.fspath(FONTS / "DejaVuSans-Bold.ttf"), size)
    width = bold.getlength(element.text or "") if element.get("font-weight") == "bold" else \
        regular.getlength(element.text or "")
    for span in element:
        width += (bold if span.get("font-weight") == "bold" else regular).getlength(span.text or "")
        width += regular.getlength(span.tail or "")
    return width


def test_every_label_fits_inside_its_box():
    root = ET.parse(MAP).getroot()
    boxes = [tuple(float(r.get(k)) for k in ("x", "y", "width", "height")) for r in root.iter(f"{SVG}rect")
             if r.get("rx")]
    texts = list(root.iter(f"{SVG}text"))
    assert len(boxes) == 9 and len(texts) == 1 + 2 * 9  # a title, then two lines per notebook
    width = float(root.get("width"))
    title = texts[0]
    assert text_width(title) <= width - 8, "the title is wider than the map"
    for text in texts[1:]:
        x, y = float(text.get("x")), float(text.get("y"))
        box = [b for b in boxes if b[0] <= x <= b[0] + b[2] and b[1] <= y <= b[1] + b[3]]
        label = "".join(text.itertext())
        assert len(box) == 1, f"{label!r} does not start inside a box"
        bx, by, bw, bh = box[0]
        assert x + text_width(text) <= bx + bw - 4, f"{label!r} runs out of its box"
        assert by + float(text.get("font-size")) <= y <= by + bh - 4, f"{label!r} is not inside its box's height"


def test_notebook_00_shows_the_course_map():
    """Notebook 00 carries the PNG drawn from the SVG (JupyterLab shows only bitmap attachments)."""
    nb = nbformat.read(ROOT / "notebooks" / "00_start_here.ipynb", as_version=4)
    shown = [cell for cell in nb.cells if cell.cell_type == "markdown" and "attachment:course_map.png" in cell.source]
    assert len(shown) == 1, "notebook 00 shows the course map once"
    attached = base64.b64decode(shown[0].attachments["course_map.png"]["image/png"])
    assert attached == PNG.read_bytes(), (
        "notebook 00's map differs from assets/course_map.png: python tools/course_map.py")
    with Image.open(PNG) as png:
        width, height = course_map.svg_size()
        assert png.size == (width * course_map.SCALE, height * course_map.SCALE), (
            "assets/course_map.png does not match the SVG's size: render it again with python tools/course_map.py")
