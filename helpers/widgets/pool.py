"""The pooling explorer (section 5.1.2): pool size, stride, max or average and padding over one feature map."""
import ipywidgets as W
import numpy as np

from .. import i18n, ops
from ..i18n import say
from ..images import colorize
from .conv import KERNELS, ConvExplorer, explorer_images, size_formula
from .render import image_view, labelled, row, set_image, upscale

POOL_SIZES = (2, 4)
POOL_STRIDES = (1, 4)

i18n.messages({
    "widgets.pool.size": "pool size",
    "widgets.pool.stride": "stride",
    "widgets.pool.mode": "mode",
    "widgets.pool.padding": "padding",
    "widgets.pool.mode.max": "max",
    "widgets.pool.mode.avg": "avg",
    "widgets.pool.relu": "ReLU first (as Conv2D(activation='relu'))",
    "widgets.pool.output_column": "<b>pooled output (same colour scale)</b>",
    "widgets.pool.title_max": "<b>feature map {shape}: max pooling keeps the maximum of each window (bright cells; "
                              "the rest is dropped)</b>",
    "widgets.pool.title_avg": "<b>feature map {shape}: avg pooling keeps the average of each window (every bright "
                              "cell contributes)</b>",
    "widgets.pool.shape": "<b>output shape {output}</b> from {input}, {size}x{size} windows, stride {stride}, "
                          "padding '{padding}': {formula}",
    "widgets.pool.kept_max": "{kept:,} of {total:,} values kept ({kept_share:.1f}%); {outputs:,} outputs, "
                             "{output_share:.1f}% of the input's size",
    "widgets.pool.kept_avg": "{kept:,} of {total:,} values inside a window ({kept_share:.1f}%); {outputs:,} outputs, "
                             "{output_share:.1f}% of the input's size",
})


def mode_label(mode):
    """A pooling mode as the learner reads it ('max' or 'avg' stays the value)."""
    return say(f"widgets.pool.mode.{mode}")


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
        self.size_slider = W.IntSlider(value=size, min=POOL_SIZES[0], max=POOL_SIZES[1],
                                       description=say("widgets.pool.size"))
        self.stride_slider = W.IntSlider(value=stride, min=POOL_STRIDES[0], max=POOL_STRIDES[1],
                                         description=say("widgets.pool.stride"))
        self.mode_picker = W.Dropdown(options=labelled(ops.POOL_MODES, map(mode_label, ops.POOL_MODES)), value=mode,
                                      description=say("widgets.pool.mode"))
        self.padding_picker = W.Dropdown(options=list(ops.PADDINGS), value=padding,
                                         description=say("widgets.pool.padding"))
        self.relu_box = W.Checkbox(value=relu, description=say("widgets.pool.relu"), indent=False)
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
            row([W.VBox([self._input_title, self.input_view]),
                 W.VBox([W.HTML(say("widgets.pool.output_column")), self.output_view])]),
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
        else:
            self.kept = np.outer(window_coverage(fmap.shape[0], s["size"], s["stride"], s["padding"]),
                                 window_coverage(fmap.shape[1], s["size"], s["stride"], s["padding"]))
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
        mode = "max" if s["mode"] == "max" else "avg"
        self._input_title.value = say(f"widgets.pool.title_{mode}", shape=fmap.shape)
        self.shape_label.value = say("widgets.pool.shape", output=self.output.shape, input=fmap.shape, size=s["size"],
                                     stride=s["stride"], padding=s["padding"], formula=self.formula)
        self.kept_label.value = say(f"widgets.pool.kept_{mode}", kept=n_kept, total=n_all,
                                    kept_share=100 * n_kept / n_all, outputs=self.output.size,
                                    output_share=100 * self.output.size / n_all)


def pool_explorer(source=None, size=2, stride=2, mode="max", padding="valid", relu=True):
    """The pooling explorer widget over a convolution explorer (live) or a 2D feature map."""
    return PoolExplorer(default_feature_map() if source is None else source, size=size, stride=stride,
                        mode=mode, padding=padding, relu=relu)
