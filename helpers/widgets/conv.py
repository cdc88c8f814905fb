"""The convolution explorer (section 5.1.1): a picture, a 3x3 kernel, padding, stride and a step through the window."""
import ipywidgets as W
import numpy as np

from .. import config, i18n, ops
from ..i18n import say
from ..images import colorize, load_gray
from .render import (
    HIGHLIGHT,
    OUTPUT_BOX,
    PAD_COLOR,
    SCALE,
    colorbar_html,
    column,
    feature_scale,
    html_table,
    image_view,
    labelled,
    outline,
    row,
    set_image,
    upscale,
)

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
PHOTO = "photo: "  # how a photo's name starts among the explorer's pictures

i18n.messages({
    "widgets.conv.picture": "picture",
    "widgets.conv.kernel": "kernel",
    "widgets.conv.padding": "padding",
    "widgets.conv.stride": "stride",
    "widgets.conv.step": "step",
    "widgets.conv.kernel.identity": "identity",
    "widgets.conv.kernel.horizontal_edge": "horizontal edge",
    "widgets.conv.kernel.vertical_edge": "vertical edge",
    "widgets.conv.kernel.sobel_x": "Sobel x",
    "widgets.conv.kernel.sobel_y": "Sobel y",
    "widgets.conv.kernel.blur": "blur",
    "widgets.conv.kernel.sharpen": "sharpen",
    "widgets.conv.kernel.custom": CUSTOM,
    "widgets.conv.pattern.edges": "edges",
    "widgets.conv.pattern.checkerboard": "checkerboard",
    "widgets.conv.pattern.circle": "circle",
    "widgets.conv.photo": "photo: {file}",
    "widgets.conv.input_column": "input (red box: the window)",
    "widgets.conv.feature_column": "feature map (box: this step's output)",
    "widgets.conv.close_up_column": "window close up",
    "widgets.conv.step_line": "step {step:,} of {steps:,}: output cell {cell}",
    "widgets.conv.sum": "→ sum =",
    "widgets.conv.shape": "<b>output shape {output}</b> from input {input}, 3x3 window, padding '{padding}'{extra}: "
                          "{formula}",
    "widgets.conv.zero_padding": " (blue border: zero padding)",
    "widgets.conv.pads": "{size} (pads {before} before, {after} after)",
})


def _choice_key(prefix, name):
    """The message key of a named choice: ('widgets.conv.kernel', 'Sobel x') -> 'widgets.conv.kernel.sobel_x'."""
    return f"{prefix}.{name.lower().replace(' ', '_')}"


def kernel_label(name):
    """A kernel's name as the learner reads it (the kernel keeps its English name as its value)."""
    key = "widgets.conv.kernel.custom" if name == CUSTOM else _choice_key("widgets.conv.kernel", name)
    return say(key) if key in i18n.MESSAGES else name


def picture_label(name):
    """A picture's name as the learner reads it: a pattern or 'photo: cats/cat.1.jpg' in the learner's language."""
    key = _choice_key("widgets.conv.pattern", name)
    if key in i18n.MESSAGES:
        return say(key)
    return say("widgets.conv.photo", file=name[len(PHOTO):]) if name.startswith(PHOTO) else name


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
        from .. import data
        paths = data.sample_paths(split=split, n=n)
    except OSError:  # no split yet (FileNotFoundError) or an unreadable data folder: the patterns still work
        return {}
    return {f"{PHOTO}{path.parent.name}/{path.name}": load_gray(path) for path in paths[:n]}


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

        kernels = list(KERNELS) + [CUSTOM]
        self.image_picker = W.Dropdown(options=labelled(images, map(picture_label, images)),
                                       value=image or next(iter(images)), description=say("widgets.conv.picture"))
        self.kernel_picker = W.Dropdown(options=labelled(kernels, map(kernel_label, kernels)), value=kernel,
                                        description=say("widgets.conv.kernel"))
        self.padding_picker = W.Dropdown(options=list(ops.PADDINGS), value=padding,
                                         description=say("widgets.conv.padding"))
        self.stride_slider = W.IntSlider(value=stride, min=STRIDES[0], max=STRIDES[1],
                                         description=say("widgets.conv.stride"), continuous_update=True)
        self.step_slider = W.IntSlider(value=0, min=0, max=0, description=say("widgets.conv.step"),
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

        super().__init__([
            W.HBox([self.image_picker, self.kernel_picker, self.padding_picker]),
            W.HBox([self.stride_slider, self.step_slider]),
            row([column(say("widgets.conv.input_column"), self.input_view),
                 column(say("widgets.conv.feature_column"), self.feature_view, self.colorbar),
                 column(say("widgets.conv.close_up_column"), self.zoom_view,
                        W.HTML(f"<b>{say('widgets.conv.kernel')}</b>"), grid)]),
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
            parts.append(say("widgets.conv.pads", size=f"⌈{n} / {stride}⌉ = {out}", before=before, after=after))
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
    line = say("widgets.conv.step_line", step=step + 1, steps=steps, cell=tuple(int(v) for v in position))
    return (f"<div>{line}</div>"
            f"<div>{html_table(patch)}{op.format('×')}{html_table(kernel)}{op.format('=')}"
            f"{html_table(product, highlight=True)}{op.format(say('widgets.conv.sum'))}"
            f"<b style='font-family:monospace;vertical-align:middle'>{value:.3f}</b></div>")


def shape_text(in_shape, out_shape, formula, padding, pad):
    """HTML for the output shape and the formula that gave it."""
    extra = say("widgets.conv.zero_padding") if padding == "same" else ""
    return say("widgets.conv.shape", output=tuple(int(v) for v in out_shape), input=tuple(int(v) for v in in_shape[:2]),
               padding=padding, extra=extra, formula=formula)


def conv_explorer(image=None, kernel="Sobel x", stride=1, padding="valid", images=None):
    """The convolution explorer widget; images defaults to photos from the data set plus patterns.

    image picks the starting picture by name; pass images={name: 2D array} to use your own.
    """
    return ConvExplorer(images if images is not None else explorer_images(), image=image, kernel=kernel,
                        stride=stride, padding=padding)
