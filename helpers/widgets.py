"""Interactive explorers (ipywidgets 8): each is a function returning a widget you can also drive from Python.

Every explorer renders its pictures with Pillow into ipywidgets.Image as PNG bytes, once per change,
and keeps the arrays it shows as attributes (`.feature_map`, `.output`, `.state`) so that tests and
notebooks can set a control's `.value` and read what is on screen.

Sections: shared rendering helpers, the convolution explorer (5.1.1), the pooling explorer (5.1.2).
Further explorers go at the end of the file and reuse the shared helpers.
"""
import io
import math

import ipywidgets as W
import numpy as np
from PIL import Image

from . import config, ops

# ---------------------------------------------------------------------------------------------
# Shared rendering helpers
# ---------------------------------------------------------------------------------------------

SCALE = 2  # screen pixels per array cell, the same for every view so sizes compare at a glance
HIGHLIGHT = (230, 40, 40)
PAD_COLOR = (70, 90, 150)
DIVERGING = "RdBu_r"  # negative blue, zero white, positive red
OUTPUT_BOX = (0, 0, 0)  # the output cell's box on a diverging map
_LUTS = {}


def to_png(pixels):
    """PNG bytes of a uint8 (H, W) or (H, W, 3) array (fast compression: rendered on every change)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def colormap_lut(name="viridis"):
    """A (256, 3) uint8 lookup table for a matplotlib colormap, built once per name."""
    if name not in _LUTS:
        import matplotlib
        _LUTS[name] = (matplotlib.colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)
    return _LUTS[name]


def colorize(x, vmin=None, vmax=None, cmap="viridis"):
    """A float (H, W) array as uint8 RGB through a colormap, scaled from vmin..vmax (default min..max)."""
    x = np.asarray(x, dtype=np.float64)
    vmin = float(x.min()) if vmin is None else vmin
    vmax = float(x.max()) if vmax is None else vmax
    span = vmax - vmin if vmax > vmin else 1.0
    idx = np.clip((x - vmin) * (255.0 / span), 0, 255).astype(np.uint8)
    return colormap_lut(cmap)[idx]


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


def load_gray(path, size=config.IMAGE_SIZE):
    """A picture as a float (height, width) array in 0..1, resized like the book's generators do."""
    with Image.open(path) as img:
        return np.asarray(img.convert("L").resize(size, Image.BILINEAR), dtype=np.float64) / 255.0


def _table(values, fmt="{:.2f}", highlight=False):
    """A small HTML table of a 2D array's values."""
    style = "border-collapse:collapse;font-family:monospace;font-size:12px;display:inline-table;"
    cell = "border:1px solid #999;padding:2px 5px;text-align:right;"
    if highlight:
        cell += "background:#fde2e2;"
    rows = "".join("<tr>" + "".join(f"<td style='{cell}'>{fmt.format(v)}</td>" for v in row) + "</tr>"
                   for row in np.asarray(values))
    return f"<table style='{style}'>{rows}</table>"


# ---------------------------------------------------------------------------------------------
# Convolution explorer (section 5.1.1)
# ---------------------------------------------------------------------------------------------

KERNELS = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "horizontal edge": [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
    "vertical edge": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
    "Sobel x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "Sobel y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "blur": [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
}
KERNELS = {name: np.array(k, dtype=np.float64) for name, k in KERNELS.items()}
CUSTOM = "custom (edit the grid)"
STRIDES = (1, 3)  # slider range
PATTERNS = ("edges", "checkerboard", "circle")


def pattern(name, size=config.IMAGE_SIZE[0]):
    """A synthetic grayscale test picture in 0..1: 'edges', 'checkerboard' or 'circle'."""
    yy, xx = np.mgrid[0:size, 0:size]
    if name == "edges":  # a bright square on a dark ground: two vertical and two horizontal edges
        q = size // 4
        return ((yy >= q) & (yy < 3 * q) & (xx >= q) & (xx < 3 * q)).astype(np.float64) * 0.8 + 0.1
    if name == "checkerboard":
        cell = max(size // 6, 1)
        return (((yy // cell) + (xx // cell)) % 2).astype(np.float64)
    if name == "circle":
        c, r = (size - 1) / 2, size / 3
        return ((yy - c) ** 2 + (xx - c) ** 2 <= r * r).astype(np.float64)
    raise ValueError(f"unknown pattern {name!r}: use one of {', '.join(PATTERNS)}")


def sample_images(n=3, split="train"):
    """Up to n grayscale pictures from the prepared data set as {label: array}; {} if none is prepared."""
    try:
        from . import data
        paths = data.sample_paths(split=split, n=n)
    except Exception:  # no split yet (or the data helpers are missing): the patterns still work
        return {}
    return {f"photo: {path.parent.name}/{path.name}": load_gray(path) for path in paths[:n]}


def explorer_images(n_photos=3):
    """The explorer's pictures: photos from the data set when prepared, then the synthetic patterns."""
    images = sample_images(n_photos)
    images.update({name: pattern(name) for name in PATTERNS})
    return images


class ConvExplorer(W.VBox):
    """Convolution explorer: picture, 3x3 kernel, padding, stride and a step through the sliding window."""

    def __init__(self, images, image=None, kernel="Sobel x", stride=1, padding="valid"):
        images = {name: np.asarray(img, dtype=np.float64) for name, img in images.items()}
        if not images:
            raise ValueError("the explorer needs at least one picture")
        for name, img in images.items():
            if img.ndim != 2 or min(img.shape) < 3:
                raise ValueError(f"picture {name!r} must be a 2D grayscale array of at least 3x3, "
                                 f"got shape {img.shape}")
        if kernel not in KERNELS and kernel != CUSTOM:
            raise ValueError(f"unknown kernel {kernel!r}: use one of {', '.join(KERNELS)}")
        self.images = images
        self._busy = False
        self._listeners = []
        self._position = None

        self.image_picker = W.Dropdown(options=list(images), value=image or next(iter(images)),
                                       description="picture")
        self.kernel_picker = W.Dropdown(options=list(KERNELS) + [CUSTOM], value=kernel,
                                        description="kernel")
        self.padding_picker = W.Dropdown(options=list(ops.PADDINGS), value=padding,
                                         description="padding")
        self.stride_slider = W.IntSlider(value=stride, min=STRIDES[0], max=STRIDES[1], description="stride",
                                         continuous_update=True)
        self.step_slider = W.IntSlider(value=0, min=0, max=0, description="step",
                                       continuous_update=True, layout=W.Layout(width="420px"))
        start = KERNELS.get(kernel, KERNELS["identity"])
        self.kernel_cells = [W.FloatText(value=float(start.flat[n]), step=0.1,
                                         layout=W.Layout(width="64px")) for n in range(9)]
        grid = W.GridBox(self.kernel_cells, layout=W.Layout(grid_template_columns="repeat(3, 68px)"))
        self.input_view = image_view("conv-input")
        self.feature_view = image_view("conv-feature-map")
        self.zoom_view = image_view("conv-zoom")
        self.colorbar = W.HTML()
        self.step_label = W.HTML()
        self.shape_label = W.HTML()
        for widget, css in ((self.image_picker, "conv-image"), (self.kernel_picker, "conv-kernel"),
                            (self.padding_picker, "conv-padding"), (self.stride_slider, "conv-stride"),
                            (self.step_slider, "conv-step-slider"), (grid, "conv-kernel-grid"),
                            (self.step_label, "conv-step"), (self.shape_label, "conv-shape"),
                            (self.colorbar, "conv-colorbar")):
            widget.add_class(css)

        def column(title, *children):
            return W.VBox([W.HTML(f"<b>{title}</b>"), *children])

        super().__init__([
            W.HBox([self.image_picker, self.kernel_picker, self.padding_picker]),
            W.HBox([self.stride_slider, self.step_slider]),
            W.HBox([column("input (red box: the window)", self.input_view),
                    column("feature map (box: this step's output)", self.feature_view, self.colorbar),
                    column("window close up", self.zoom_view, W.HTML("<b>kernel</b>"), grid)],
                   layout=W.Layout(align_items="flex-start", gap="12px")),
            self.step_label,
            self.shape_label,
        ])
        self.add_class("conv-explorer")

        for control in (self.image_picker, self.padding_picker, self.stride_slider):
            control.observe(self._on_setting, names="value")
        self.kernel_picker.observe(self._on_kernel_pick, names="value")
        for cell in self.kernel_cells:
            cell.observe(self._on_kernel_edit, names="value")
        self.step_slider.observe(self._on_step, names="value")
        self._compute()
        self._render()

    # -- what is shown ------------------------------------------------------------------------
    @property
    def image(self):
        """The picture being convolved, a float (H, W) array."""
        return self.images[self.image_picker.value]

    @property
    def kernel(self):
        """The 3x3 kernel in use (the grid's values)."""
        return np.array([c.value for c in self.kernel_cells], dtype=np.float64).reshape(3, 3)

    @property
    def stride(self):
        return self.stride_slider.value

    @property
    def padding(self):
        return self.padding_picker.value

    @property
    def position(self):
        """Output cell (row, col) the step slider points at."""
        return divmod(self.step_slider.value, self.feature_map.shape[1])

    def formula(self):
        """The output-size formula with this explorer's numbers, as plain text."""
        return size_formula(self.image.shape, 3, self.stride, self.padding)

    @property
    def state(self):
        """Everything on screen as plain arrays and numbers (for figures and tests)."""
        i, j = self.position
        return {"image": self.image, "image_name": self.image_picker.value, "kernel": self.kernel,
                "kernel_name": self.kernel_picker.value, "stride": self.stride, "padding": self.padding,
                "position": (i, j), "window": ops.window_origin(i, j, self.image.shape, (3, 3),
                                                                self.stride, self.padding),
                "feature_map": self.feature_map, "scale": self.scale, "patch": self.patch,
                "product": self.product, "value": self.value, "formula": self.formula()}

    def on_feature_map(self, callback):
        """Call callback(explorer) whenever the feature map changes (the pooling explorer listens)."""
        self._listeners.append(callback)

    # -- callbacks ----------------------------------------------------------------------------
    def _on_setting(self, change):
        if not self._busy:
            self._compute()
            self._render()

    def _on_kernel_pick(self, change):
        if self._busy or change.new == CUSTOM:
            return
        self._busy = True
        try:
            for cell, v in zip(self.kernel_cells, KERNELS[change.new].flat):
                cell.value = float(v)
        finally:
            self._busy = False
        self._compute()
        self._render()

    def _on_kernel_edit(self, change):
        if self._busy:
            return
        self._busy = True
        try:
            if self.kernel_picker.value != CUSTOM and not np.array_equal(
                    self.kernel, KERNELS[self.kernel_picker.value]):
                self.kernel_picker.value = CUSTOM
        finally:
            self._busy = False
        self._compute()
        self._render()

    def _on_step(self, change):
        if not self._busy:
            self._step()
            self._render()

    # -- computing and drawing ----------------------------------------------------------------
    def _compute(self):
        """Convolve, keep the step at the same relative place, and cache the base pictures."""
        old = self.feature_map.shape if hasattr(self, "feature_map") else None
        i, j = self.position if old else (None, None)
        self.feature_map = ops.conv2d(self.image, self.kernel, stride=self.stride,
                                      padding=self.padding)[:, :, 0]
        oh, ow = self.feature_map.shape
        if old is None:  # start where the kernel responds most
            i, j = (int(v) for v in np.unravel_index(np.argmax(np.abs(self.feature_map)), (oh, ow)))
        else:
            i, j = min(i * oh // old[0], oh - 1), min(j * ow // old[1], ow - 1)
        self._busy = True
        try:
            with self.step_slider.hold_trait_notifications():
                self.step_slider.max = oh * ow - 1
                self.step_slider.value = i * ow + j
        finally:
            self._busy = False
        self._input_base, self._pad = padded_canvas(self.image, 3, self.stride, self.padding)
        self.scale = feature_scale(self.feature_map)
        cmap, vmin, vmax = self.scale
        self._feature_base = upscale(colorize(self.feature_map, vmin, vmax, cmap))
        self.colorbar.value = colorbar_html(cmap, vmin, vmax, max(self._feature_base.shape[1], 160))
        self._step()
        for callback in self._listeners:
            callback(self)

    def _step(self):
        i, j = self.position
        self.patch, self.product, self.value = ops.conv_step(self.image, self.kernel, i, j,
                                                             self.stride, self.padding)

    def _render(self):
        """Draw the window, the output cell, the close up and the labels; one update per view."""
        i, j = self.position
        top, left = ops.window_origin(i, j, self.image.shape, (3, 3), self.stride, self.padding)
        top, left = top + self._pad[0], left + self._pad[1]
        fmap = self._feature_base.copy()
        outline(fmap, i * SCALE, j * SCALE, SCALE, SCALE,
                color=HIGHLIGHT if self.scale[0] == "viridis" else OUTPUT_BOX)  # red would read as a value
        views = [(self.feature_view, fmap)]
        key = (self.image_picker.value, self.padding, self.stride, top, left)
        if key != getattr(self, "_input_key", None):  # the window moved: redraw the input side too
            inp = upscale(self._input_base)
            outline(inp, top * SCALE, left * SCALE, 3 * SCALE, 3 * SCALE)
            views += [(self.input_view, inp), (self.zoom_view, close_up(self._input_base, top, left, 3))]
            self._input_key = key
        step_html = step_text(self.patch, self.kernel, self.product, self.value, (i, j),
                              self.step_slider.value, self.step_slider.max + 1)
        shape_html = shape_text(self.image.shape, self.feature_map.shape, self.formula(),
                                self.padding, self._pad)
        for view, pixels in views:
            with view.hold_sync():
                set_image(view, pixels)
        self.step_label.value = step_html
        self.shape_label.value = shape_html


def size_formula(shape, k, stride, padding):
    """The output size per axis as text: floor((n - k) / s) + 1 for 'valid', ceil(n / s) for 'same'."""
    parts = []
    for n in sorted(set(shape[:2]), key=list(shape[:2]).index):
        out = ops.conv_output_size(n, k, stride, padding)
        if padding == "valid":
            parts.append(f"⌊({n} − {k}) / {stride}⌋ + 1 = {out}")
        else:
            before, after = ops.same_padding(n, k, stride)
            parts.append(f"⌈{n} / {stride}⌉ = {out} (pads {before} before, {after} after)")
    return "; ".join(parts)


def padded_canvas(image, k, stride, padding):
    """The picture as gray RGB with 'same' padding drawn around it in blue; returns (rgb, (top, left))."""
    gray = np.clip(image * 255.0, 0, 255).astype(np.uint8) if image.min() >= 0 and image.max() <= 1 \
        else colorize(image, cmap="gray")[:, :, 0]
    rgb = np.repeat(gray[:, :, None], 3, axis=2)
    if padding != "same":
        return rgb, (0, 0)
    (t, b), (l, r) = ops.same_padding(image.shape[0], k, stride), ops.same_padding(image.shape[1], k, stride)
    canvas = np.empty((image.shape[0] + t + b, image.shape[1] + l + r, 3), dtype=np.uint8)
    canvas[:] = PAD_COLOR
    canvas[t:t + image.shape[0], l:l + image.shape[1]] = rgb
    return canvas, (t, l)


def close_up(canvas, top, left, k, margin=3, cell=16):
    """An enlarged neighbourhood of the window (k x k at top, left) with the window outlined."""
    h, w = canvas.shape[:2]
    r0, c0 = top - margin, left - margin
    size = k + 2 * margin
    crop = np.full((size, size, 3), 255, dtype=np.uint8)
    rs, re, cs, ce = max(r0, 0), min(r0 + size, h), max(c0, 0), min(c0 + size, w)
    crop[rs - r0:re - r0, cs - c0:ce - c0] = canvas[rs:re, cs:ce]
    big = upscale(crop, cell)
    big[::cell, :] = (big[::cell, :] * 0.7).astype(np.uint8)  # faint cell grid
    big[:, ::cell] = (big[:, ::cell] * 0.7).astype(np.uint8)
    return outline(big, margin * cell, margin * cell, k * cell, k * cell, thickness=3)


def step_text(patch, kernel, product, value, position, step, steps):
    """HTML for one step: patch x kernel (element-wise) = products, summed into one output value."""
    op = "<span style='font-size:20px;padding:0 8px;vertical-align:middle'>{}</span>"
    return (f"<div>step {step + 1:,} of {steps:,}: output cell {tuple(int(v) for v in position)}</div>"
            f"<div>{_table(patch)}{op.format('×')}{_table(kernel)}{op.format('=')}"
            f"{_table(product, highlight=True)}{op.format('→ sum =')}"
            f"<b style='font-family:monospace;vertical-align:middle'>{value:.3f}</b></div>")


def shape_text(in_shape, out_shape, formula, padding, pad):
    """HTML for the output shape and the formula that gave it."""
    extra = " (blue border: zero padding)" if padding == "same" else ""
    return (f"<b>output shape {tuple(int(v) for v in out_shape)}</b> from input "
            f"{tuple(int(v) for v in in_shape[:2])}, 3x3 window, padding '{padding}'{extra}: {formula}")


def conv_explorer(image=None, kernel="Sobel x", stride=1, padding="valid", images=None):
    """The convolution explorer widget; images defaults to photos from the data set plus patterns.

    image picks the starting picture by name; pass images={name: 2D array} to use your own.
    """
    return ConvExplorer(images if images is not None else explorer_images(), image=image, kernel=kernel,
                        stride=stride, padding=padding)


# ---------------------------------------------------------------------------------------------
# Pooling explorer (section 5.1.2)
# ---------------------------------------------------------------------------------------------

POOL_SIZES = (2, 4)
POOL_STRIDES = (1, 4)


def default_feature_map():
    """A feature map to pool when none is given: the first explorer picture through the Sobel x kernel."""
    image = next(iter(explorer_images(n_photos=1).values()))
    return ops.conv2d(image, KERNELS["Sobel x"])[:, :, 0]


def window_coverage(n, size, stride, padding):
    """Boolean mask over one axis: which of the n cells fall inside at least one pooling window."""
    out = ops.conv_output_size(n, size, stride, padding)
    before = ops.same_padding(n, size, stride)[0] if padding == "same" else 0
    idx = (np.arange(out)[:, None] * stride - before + np.arange(size)).ravel()
    mask = np.zeros(n, dtype=bool)
    mask[idx[(idx >= 0) & (idx < n)]] = True
    return mask


class PoolExplorer(W.VBox):
    """Pooling explorer: pool size, stride, max/avg and padding over one feature map."""

    def __init__(self, source, size=2, stride=2, mode="max", padding="valid", relu=True):
        self.source = source if isinstance(source, ConvExplorer) else None
        self._fixed = None if self.source else np.asarray(source, dtype=np.float64)
        if self._fixed is not None and self._fixed.ndim != 2:
            raise ValueError(f"the pooling explorer takes one 2D feature map, got shape {self._fixed.shape}")
        self.size_slider = W.IntSlider(value=size, min=POOL_SIZES[0], max=POOL_SIZES[1], description="pool size")
        self.stride_slider = W.IntSlider(value=stride, min=POOL_STRIDES[0], max=POOL_STRIDES[1],
                                         description="stride")
        self.mode_picker = W.Dropdown(options=list(ops.POOL_MODES), value=mode, description="mode")
        self.padding_picker = W.Dropdown(options=list(ops.PADDINGS), value=padding, description="padding")
        self.relu_box = W.Checkbox(value=relu, description="ReLU first (as Conv2D(activation='relu'))",
                                   indent=False)
        self.input_view = image_view("pool-input")
        self.output_view = image_view("pool-output")
        self.shape_label = W.HTML()
        self.kept_label = W.HTML()
        for widget, css in ((self.size_slider, "pool-size"), (self.stride_slider, "pool-stride"),
                            (self.mode_picker, "pool-mode"), (self.padding_picker, "pool-padding"),
                            (self.relu_box, "pool-relu"), (self.shape_label, "pool-shape"),
                            (self.kept_label, "pool-kept")):
            widget.add_class(css)
        self._input_title = W.HTML()
        super().__init__([
            W.HBox([self.size_slider, self.stride_slider]),
            W.HBox([self.mode_picker, self.padding_picker, self.relu_box]),
            W.HBox([W.VBox([self._input_title, self.input_view]),
                    W.VBox([W.HTML("<b>pooled output (same colour scale)</b>"), self.output_view])],
                   layout=W.Layout(align_items="flex-start", gap="12px")),
            self.shape_label,
            self.kept_label,
        ])
        self.add_class("pool-explorer")
        for control in (self.size_slider, self.stride_slider, self.mode_picker, self.padding_picker,
                        self.relu_box):
            control.observe(self._on_setting, names="value")
        if self.source is not None:
            self.source.on_feature_map(lambda _: self._update())
        self._update()

    @property
    def feature_map(self):
        """The map being pooled (after ReLU when that box is ticked)."""
        fmap = self.source.feature_map if self.source is not None else self._fixed
        return np.maximum(fmap, 0.0) if self.relu_box.value else fmap

    @property
    def settings(self):
        """Pool size, stride, mode and padding as ops.pool2d keyword arguments."""
        return {"size": self.size_slider.value, "stride": self.stride_slider.value,
                "mode": self.mode_picker.value, "padding": self.padding_picker.value}

    @property
    def state(self):
        """Everything on screen as plain arrays and numbers (for figures and tests)."""
        return {"feature_map": self.input, "output": self.output, "kept": self.kept,
                "formula": self.formula, "relu": self.relu_box.value, **self.settings}

    def _on_setting(self, change):
        self._update()

    def _update(self):
        """Pool, work out which input cells made it into the output, and draw both maps."""
        s = self.settings
        fmap = self.feature_map
        if s["padding"] == "valid" and s["size"] > min(fmap.shape):
            raise ValueError(f"pool size {s['size']} is larger than the feature map {fmap.shape}")
        self.input = fmap
        self.output = ops.pool2d(fmap, **s)
        if s["mode"] == "max":
            idx = ops.pool_argmax(fmap, s["size"], s["stride"], s["padding"])
            self.kept = np.zeros(fmap.shape, dtype=bool)
            self.kept[idx[..., 0], idx[..., 1]] = True
            what = "the maximum of each window (bright cells; the rest is dropped)"
        else:
            self.kept = np.outer(window_coverage(fmap.shape[0], s["size"], s["stride"], s["padding"]),
                                 window_coverage(fmap.shape[1], s["size"], s["stride"], s["padding"]))
            what = "the average of each window (every bright cell contributes)"
        self.formula = size_formula(fmap.shape, s["size"], s["stride"], s["padding"])
        vmin, vmax = float(fmap.min()), float(fmap.max())
        shown = colorize(fmap, vmin, vmax)
        shown[~self.kept] = (shown[~self.kept] * 0.25).astype(np.uint8)
        out = colorize(self.output, vmin, vmax)
        n_kept, n_all = int(self.kept.sum()), fmap.size
        with self.input_view.hold_sync():
            set_image(self.input_view, upscale(shown))
        with self.output_view.hold_sync():
            set_image(self.output_view, upscale(out))
        self._input_title.value = f"<b>feature map {fmap.shape}: {s['mode']} pooling keeps {what}</b>"
        self.shape_label.value = (f"<b>output shape {self.output.shape}</b> from {fmap.shape}, "
                                  f"{s['size']}x{s['size']} windows, stride {s['stride']}, "
                                  f"padding '{s['padding']}': {self.formula}")
        share = "kept" if s["mode"] == "max" else "inside a window"
        self.kept_label.value = (f"{n_kept:,} of {n_all:,} values {share} ({100 * n_kept / n_all:.1f}%); "
                                 f"{self.output.size:,} outputs, {100 * self.output.size / n_all:.1f}% "
                                 "of the input's size")


def pool_explorer(source=None, size=2, stride=2, mode="max", padding="valid", relu=True):
    """The pooling explorer widget over a convolution explorer (live) or a 2D feature map."""
    return PoolExplorer(default_feature_map() if source is None else source, size=size, stride=stride,
                        mode=mode, padding=padding, relu=relu)


# --- Augmentation explorer (section 5.2.5) ---

# ImageDataGenerator's defaults: an option is printed only when it differs from these.
AUG_DEFAULTS = dict(rotation_range=0, width_shift_range=0.0, height_shift_range=0.0,
                    shear_range=0.0, zoom_range=0.0, horizontal_flip=False, fill_mode="nearest",
                    cval=0.0, brightness_range=None, channel_shift_range=0.0)
# Listing 5.11's settings; shear_range is the book's 0.2 radians written in degrees (11.5).
AUG_BOOK = dict(rotation_range=40, width_shift_range=0.2, height_shift_range=0.2,
                shear_range=11.5, zoom_range=0.2, horizontal_flip=True, fill_mode="nearest")


def _fallback_image(seed):
    """A stand-in training image when no data is prepared: a synthetic cat, else a drawn pattern."""
    from PIL import Image, ImageDraw

    try:
        from . import synthetic
        return synthetic.draw_image("cat", synthetic.image_seed(seed, "cat", 0)).convert("RGB")
    except Exception:
        img = Image.new("RGB", (200, 160), (90, 140, 200))
        draw = ImageDraw.Draw(img)
        draw.rectangle((20, 110, 180, 160), fill=(70, 150, 60))
        draw.ellipse((130, 15, 170, 55), fill=(250, 220, 60))
        draw.polygon([(40, 110), (70, 40), (100, 110)], fill=(160, 60, 40))  # asymmetric: flips show
        return img


def training_images(n=8, seed=None):
    """Up to n (label, path) pairs from the training split, or [] if the data is not prepared."""
    from pathlib import Path

    from .config import SEED as DEFAULT_SEED

    try:
        from . import data
        paths = data.sample_paths("train", n=n, seed=DEFAULT_SEED if seed is None else seed)
    except Exception:
        return []
    return [(f"{Path(p).parent.name}/{Path(p).name}", str(p)) for p in paths]


def load_explorer_image(path, seed=None):
    """One image as the generators see it: 150x150 RGB float32 array (0-255)."""
    import numpy as np
    from PIL import Image

    from .config import IMAGE_SIZE, SEED as DEFAULT_SEED

    img = Image.open(path).convert("RGB") if path else _fallback_image(DEFAULT_SEED if seed is None else seed)
    # flow_from_directory's default resize is nearest-neighbour; (width, height) order for Pillow.
    img = img.resize((IMAGE_SIZE[1], IMAGE_SIZE[0]), Image.NEAREST)
    return np.asarray(img, dtype=np.float32)


def augmentation_kwargs(settings):
    """The ImageDataGenerator keyword arguments for explorer settings, only those off the defaults."""
    kwargs = {}
    for key, default in AUG_DEFAULTS.items():
        value = settings.get(key, default)
        if key == "cval" and settings.get("fill_mode", "nearest") != "constant":
            continue
        if isinstance(value, float):
            value = round(value, 4)
        if value != default:
            kwargs[key] = value
    return kwargs


def augmentation_call(kwargs, rescale=True):
    """The exact `ImageDataGenerator(...)` call for these keyword arguments, ready to copy."""
    args = (["rescale=1./255"] if rescale else []) + [f"{k}={v!r}" for k, v in kwargs.items()]
    if not args:
        return "ImageDataGenerator()"
    return "ImageDataGenerator(\n" + "".join(f"    {a},\n" for a in args) + ")"


def augment_image(datagen, x, n, seed):
    """n augmented versions of x: version i is datagen.random_transform(x, seed=seed + i)."""
    import numpy as np

    state = np.random.get_state()  # random_transform reseeds NumPy's global generator
    try:
        return [datagen.random_transform(x.copy(), seed=seed + i) for i in range(n)]
    finally:
        np.random.set_state(state)


def grid_png(images, cols=None, gap=4, background=(255, 255, 255)):
    """Tile equally sized images into one PNG (bytes) with Pillow; also return the uint8 grid array."""

    import numpy as np
    from PIL import Image

    cols = cols or math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / cols)
    h, w = images[0].shape[:2]
    canvas = np.empty((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap, 3), np.uint8)
    canvas[...] = background
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        canvas[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = \
            np.clip(np.rint(image), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(canvas).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue(), canvas


def augmentation_explorer(n=9, seed=None, paths=None, book_settings=True):
    """Sliders for every ImageDataGenerator option of section 5.2.5, a grid of n augmented
    versions of one training image, and the ImageDataGenerator(...) call that makes them."""
    from pathlib import Path

    import ipywidgets as w
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    from .config import SEED as DEFAULT_SEED

    seed = DEFAULT_SEED if seed is None else seed
    choices = [(Path(p).parent.name + "/" + Path(p).name, str(p)) for p in paths] if paths \
        else training_images(8, seed)
    fallback = not choices
    if fallback:
        choices = [("generated image (prepare the data to pick a training photo)", "")]
    start = {**AUG_DEFAULTS, **(AUG_BOOK if book_settings else {})}
    style = {"description_width": "150px"}
    layout = w.Layout(width="420px")

    def fslider(desc, value, lo, hi, step, fmt=".2f"):
        return w.FloatSlider(value=value, min=lo, max=hi, step=step, description=desc,
                             readout_format=fmt, style=style, layout=layout, continuous_update=False)

    controls = {
        "image": w.Dropdown(options=choices, value=choices[0][1], description="training image",
                            style=style, layout=layout),
        "rotation_range": w.IntSlider(value=start["rotation_range"], min=0, max=180, step=5,
                                      description="rotation_range (°)", style=style, layout=layout,
                                      continuous_update=False),
        "width_shift_range": fslider("width_shift_range", start["width_shift_range"], 0, 0.5, 0.05),
        "height_shift_range": fslider("height_shift_range", start["height_shift_range"], 0, 0.5, 0.05),
        "shear_range": fslider("shear_range (°)", start["shear_range"], 0, 45, 0.5, ".1f"),
        "zoom_range": fslider("zoom_range", start["zoom_range"], 0, 0.5, 0.05),
        "horizontal_flip": w.Checkbox(value=start["horizontal_flip"], description="horizontal_flip",
                                      style=style, layout=layout),
        "fill_mode": w.Dropdown(options=["nearest", "constant", "reflect", "wrap"],
                                value=start["fill_mode"], description="fill_mode", style=style,
                                layout=layout),
        "cval": w.IntSlider(value=int(start["cval"]), min=0, max=255, description="cval (constant)",
                            style=style, layout=layout, continuous_update=False),
        "brightness": fslider("brightness_range ±", 0.0, 0, 0.8, 0.05),
        "channel_shift_range": fslider("channel_shift_range", start["channel_shift_range"], 0, 100, 5,
                                       ".0f"),
        "n": w.Dropdown(options=[4, 9, 16], value=n if n in (4, 9, 16) else 9, description="versions",
                        style=style, layout=layout),
    }
    redraw = w.Button(description="new random draw", icon="refresh")
    grid = w.Image(format="png")
    code = w.HTML()
    info = w.HTML()
    classes = {"image": "aug-image", "rotation_range": "aug-rotation", "width_shift_range": "aug-width-shift",
               "height_shift_range": "aug-height-shift", "shear_range": "aug-shear",
               "zoom_range": "aug-zoom", "horizontal_flip": "aug-hflip", "fill_mode": "aug-fill-mode",
               "cval": "aug-cval", "brightness": "aug-brightness",
               "channel_shift_range": "aug-channel-shift", "n": "aug-count"}
    for key, css in classes.items():
        controls[key].add_class(css)
    redraw.add_class("aug-redraw")
    grid.add_class("aug-grid")
    code.add_class("aug-code")

    box = w.VBox([w.HBox([w.VBox(list(controls.values()) + [redraw]), w.VBox([grid, info])]), code])
    box.add_class("aug-explorer")
    box.controls, box.redraw, box.grid, box.code = controls, redraw, grid, code
    box.state = {"seed": seed}
    cache = {}

    def settings():
        values = {k: c.value for k, c in controls.items() if k in AUG_DEFAULTS}
        b = controls["brightness"].value
        values["brightness_range"] = (round(1 - b, 4), round(1 + b, 4)) if b > 0 else None
        values["cval"] = float(controls["cval"].value)
        return values

    def update(*_):
        path = controls["image"].value
        if path not in cache:
            cache[path] = load_explorer_image(path or None, seed)
        x = cache[path]
        kwargs = augmentation_kwargs(settings())
        controls["cval"].disabled = controls["fill_mode"].value != "constant"
        datagen = ImageDataGenerator(**kwargs)
        images = augment_image(datagen, x, controls["n"].value, box.state["seed"])
        png, canvas = grid_png(images)
        call = augmentation_call(kwargs)
        grid.value = png
        code.value = (f"<pre style='font-size:12px'>datagen = {call}\n"
                      f"# this preview: datagen.random_transform(x, seed={box.state['seed']} + i)"
                      f" for i in range({len(images)})</pre>")
        info.value = ("<small>Each tile is one random draw of the settings on the left. "
                      "shear_range is in degrees (the book's 0.2 meant radians, about 11.5°)."
                      + (" No training images found: showing a generated image." if fallback else "")
                      + "</small>")
        box.state.update(image=x, images=images, grid=canvas, kwargs=kwargs, call=call, path=path)

    def new_draw(_=None):
        box.state["seed"] += 1000
        update()

    for control in controls.values():
        control.observe(update, names="value")
    redraw.on_click(new_draw)
    box.update, box.new_draw = update, new_draw
    update()
    return box


# ---------------------------------------------------------------------------------------------
# Activation explorer (section 5.4.1)
# ---------------------------------------------------------------------------------------------

def activation_explorer(model, images=None, layer=None, channel=0):
    """Pick a test image, a Conv2D/MaxPooling2D layer and a channel; see the activation beside the image.

    images: {label: path} (default: two test images per class). The widget keeps what it shows in
    `.state` (image, layer, channel, activation) and `.activation`.
    """
    from . import inspect_model as im

    images = dict(images) if images else im.images_per_class()
    fallback = not images
    names = [l.name for l in im.feature_layers(model)]
    if not names:
        raise ValueError("This model has no Conv2D or MaxPooling2D layers to explore.")
    extractor = im.activation_model(model)
    if fallback:  # no data prepared: a fixed noise image still shows how layers respond
        images = {"noise (prepare the data to see photos)": None}
    style, layout = {"description_width": "70px"}, W.Layout(width="340px")
    picker = W.Dropdown(options=list(images), description="image", style=style, layout=layout)
    layer_picker = W.Dropdown(options=names, value=layer or names[0], description="layer", style=style,
                              layout=layout)
    channel_slider = W.IntSlider(value=0, min=0, max=1, description="channel", style=style, layout=layout,
                                 continuous_update=False)
    view = image_view("act-view")
    info = W.HTML()
    picker.add_class("act-image")
    layer_picker.add_class("act-layer")
    channel_slider.add_class("act-channel")
    info.add_class("act-info")
    box = W.VBox([W.HBox([picker, layer_picker, channel_slider]), view, info])
    box.add_class("act-explorer")
    box.image_picker, box.layer_picker, box.channel_slider, box.view, box.info = \
        picker, layer_picker, channel_slider, view, info
    box.state, box.renders = {}, 0
    cache = {}

    def features(name):
        if name not in cache:
            path = images[name]
            if path is None:
                size = im.input_size(model)
                x = np.random.default_rng(config.SEED).random(size + (3,)).astype("float32")
                x = x * 255.0 if im.rescales_inside(model) else x
            else:
                x = im.load_image(path, model)
            outs = extractor(x[None], training=False)
            outs = outs if isinstance(outs, (list, tuple)) else [outs]
            cache[name] = (im.to_display(x, model), {n: np.asarray(o)[0] for n, o in zip(names, outs)})
        return cache[name]

    def render():
        photo, acts = features(picker.value)
        act = acts[layer_picker.value]
        k = min(channel_slider.value, act.shape[-1] - 1)
        fmap = act[:, :, k]
        set_image(view, im.side_by_side(photo, fmap))
        active = float((fmap > 0).mean() * 100)
        info.value = (f"<b>{layer_picker.value}</b>, channel {k} of {act.shape[-1]}: "
                      f"{fmap.shape[0]}x{fmap.shape[1]} activation, max {float(fmap.max()):.3g}, "
                      f"{active:.0f}% of positions active"
                      + (" <i>(blank: this channel does not fire on this image)</i>" if fmap.max() <= 0 else ""))
        box.activation = fmap
        box.state.update(image=picker.value, layer=layer_picker.value, channel=k, activation=fmap,
                         photo=photo, shape=tuple(act.shape))
        box.renders += 1

    def on_layer(change):
        channel_slider.unobserve(on_change, names="value")  # one render per change
        channels = features(picker.value)[1][change["new"]].shape[-1]
        channel_slider.max = channels - 1
        channel_slider.value = min(channel_slider.value, channels - 1)
        channel_slider.observe(on_change, names="value")
        render()

    def on_change(_):
        render()

    channels = features(picker.value)[1][layer_picker.value].shape[-1]
    channel_slider.max = channels - 1
    channel_slider.value = min(channel, channels - 1)
    picker.observe(on_change, names="value")
    layer_picker.observe(on_layer, names="value")
    channel_slider.observe(on_change, names="value")
    render()
    return box
