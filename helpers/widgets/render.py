"""The explorers' shared rendering: colour maps, PNG bytes, image views, tile grids and rows of columns.

Every explorer draws its pictures with NumPy, encodes them once per change as PNG with Pillow and shows
them in an ipywidgets.Image at their natural size.
"""
import io
import math

import ipywidgets as W
import numpy as np
from PIL import Image

from ..images import colormap_lut

SCALE = 2  # screen pixels per array cell, the same for every view so sizes compare at a glance
HIGHLIGHT = (230, 40, 40)
PAD_COLOR = (70, 90, 150)
DIVERGING = "RdBu_r"  # negative blue, zero white, positive red
OUTPUT_BOX = (0, 0, 0)  # the output cell's box on a diverging map
GAP = "12px"  # space between the columns of an explorer


def to_png(pixels):
    """PNG bytes of a uint8 (H, W) or (H, W, 3) array (fast compression: rendered on every change)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def feature_scale(values, diverging=DIVERGING):
    """(colour map, vmin, vmax) for a feature map: centred on zero in a diverging map when it has negative values.

    A map without negative values (blur, identity, after a ReLU) keeps viridis from its min to its max.
    """
    values = np.asarray(values, dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    if low < 0:
        limit = max(-low, high)
        return diverging, -limit, limit
    return "viridis", low, high


def colorbar_html(cmap, vmin, vmax, width=160):
    """A horizontal colour bar in HTML (a CSS gradient through the map) with its end values, and 0 when centred."""
    lut = colormap_lut(cmap)
    stops = ", ".join("rgb({},{},{})".format(*lut[i]) for i in np.linspace(0, 255, 11).astype(int))
    ticks = (vmin, 0.0, vmax) if vmin < 0 < vmax else (vmin, vmax)
    labels = "".join(f"<span>{t:.3g}</span>" for t in ticks)
    return (f"<div style='width:{int(width)}px;font:11px monospace'>"
            f"<div style='height:10px;border:1px solid #999;background:linear-gradient(to right, {stops})'></div>"
            f"<div style='display:flex;justify-content:space-between'>{labels}</div></div>")


def upscale(pixels, factor=SCALE):
    """Nearest-neighbour enlargement so each array cell shows as factor x factor screen pixels."""
    return pixels.repeat(factor, axis=0).repeat(factor, axis=1) if factor > 1 else pixels


def outline(pixels, top, left, height, width, color=HIGHLIGHT, thickness=2):
    """Draw (in place) a box just outside the block [top:top+height, left:left+width] of an RGB array."""
    h, w = pixels.shape[:2]
    t, l = top - thickness, left - thickness
    b, r = top + height + thickness, left + width + thickness
    for r0, r1, c0, c1 in ((t, top, l, r), (top + height, b, l, r), (t, b, l, left), (t, b, left + width, r)):
        r0, r1, c0, c1 = max(r0, 0), min(r1, h), max(c0, 0), min(c1, w)
        if r0 < r1 and c0 < c1:
            pixels[r0:r1, c0:c1] = color
    return pixels


def tile_grid(images, cols=None, gap=4, background=(255, 255, 255)):
    """Equally sized images tiled row by row into one uint8 RGB array, gap pixels of background between them."""
    cols = cols or math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / cols)
    h, w = images[0].shape[:2]
    canvas = np.empty((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap, 3), np.uint8)
    canvas[...] = background
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        canvas[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = \
            np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return canvas


def image_view(css_class, pixels=None):
    """An ipywidgets.Image for PNG bytes with a CSS class (the browser test finds it by that)."""
    view = W.Image(format="png", layout=W.Layout(width="auto", height="auto"))
    view.add_class(css_class)
    if pixels is not None:
        set_image(view, pixels)
    return view


def set_image(view, pixels):
    """Show a uint8 array in an Image widget at its natural size (no browser rescaling)."""
    view.value = to_png(pixels)
    view.width, view.height = str(pixels.shape[1]), str(pixels.shape[0])


def column(title, *children):
    """A titled column of widgets."""
    return W.VBox([W.HTML(f"<b>{title}</b>"), *children])


def row(children, gap=GAP):
    """Columns side by side, tops aligned, gap between them (a grid: ipywidgets 8's Layout has no `gap`)."""
    return W.GridBox(list(children), layout=W.Layout(grid_template_columns=f"repeat({len(children)}, max-content)",
                                                      grid_gap=gap, align_items="flex-start"))


def html_table(values, fmt="{:.2f}", highlight=False):
    """A small HTML table of a 2D array's values."""
    style = "border-collapse:collapse;font-family:monospace;font-size:12px;display:inline-table;"
    cell = "border:1px solid #999;padding:2px 5px;text-align:right;"
    if highlight:
        cell += "background:#fde2e2;"
    rows = "".join("<tr>" + "".join(f"<td style='{cell}'>{fmt.format(v)}</td>" for v in r) + "</tr>"
                   for r in np.asarray(values))
    return f"<table style='{style}'>{rows}</table>"


def labelled(values, labels):
    """A Dropdown's options: the values themselves when every label is its value, else (label, value) pairs."""
    values, labels = list(values), list(labels)
    return values if labels == values else list(zip(labels, values))
