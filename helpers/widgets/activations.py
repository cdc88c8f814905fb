"""The activation explorer (section 5.4.1): a test image, a Conv2D/MaxPooling2D layer and a channel, side by side."""
from pathlib import Path

import ipywidgets as W
import numpy as np
from PIL import Image

from .. import config, i18n, predictions
from .. import inspect_model as im
from ..i18n import say
from ..images import colorize
from .render import image_view, labelled, set_image, tile_grid

NOISE = "noise (prepare the data to see photos)"  # the picture's name (its value) when no data is prepared

i18n.messages({
    "widgets.activations.image": "image",
    "widgets.activations.layer": "layer",
    "widgets.activations.channel": "channel",
    "widgets.activations.noise": NOISE,
    "widgets.activations.info": "<b>{layer}</b>, channel {channel} of {channels}: {height}x{width} activation, "
                                "max {max:.3g}, {active:.0f}% of positions active",
    "widgets.activations.blank": " <i>(blank: this channel does not fire on this image)</i>",
})


def images_per_class(n_per_class=2, split="test"):
    """{label: path} of a few test images per class for the activation explorer; {} if no data."""
    try:
        paths, labels = predictions.split_images(split)
    except (FileNotFoundError, OSError):
        return {}
    chosen = {}
    for label, cls in enumerate(config.CLASSES):
        for path in [p for p, l in zip(paths, labels) if l == label][:n_per_class]:
            chosen[f"{cls}/{Path(path).name}"] = str(path)
    return chosen


def side_by_side(image_uint8, channel, size=None, gap=8, cmap="viridis"):
    """The input image and one activation channel (coloured, nearest-upscaled to the same size)."""
    h, w = image_uint8.shape[:2] if size is None else size
    photo = np.asarray(Image.fromarray(image_uint8).resize((w, h), Image.BILINEAR))
    big = np.asarray(Image.fromarray(colorize(channel, cmap=cmap)).resize((w, h), Image.NEAREST))
    return tile_grid([photo, big], cols=2, gap=gap)


class ActivationExplorer(W.VBox):
    """Pick a test image, a Conv2D/MaxPooling2D layer and a channel; see the activation beside the image.

    `.state` holds what is shown (image, layer, channel, activation, photo, shape); `.renders` counts draws.
    """

    def __init__(self, model, images=None, layer=None, channel=0):
        images = dict(images) if images else images_per_class()
        self.fallback = not images
        self.names = [l.name for l in im.feature_layers(model)]
        if not self.names:
            raise ValueError("This model has no Conv2D or MaxPooling2D layers to explore.")
        self.model, self._extractor = model, im.activation_model(model)
        self.images = {NOISE: None} if self.fallback else images  # noise still shows how layers respond
        style, layout = {"description_width": "70px"}, W.Layout(width="340px")
        labels = [say("widgets.activations.noise") if name == NOISE else name for name in self.images]
        self.image_picker = W.Dropdown(options=labelled(self.images, labels),
                                       description=say("widgets.activations.image"), style=style, layout=layout)
        self.layer_picker = W.Dropdown(options=self.names, value=layer or self.names[0],
                                       description=say("widgets.activations.layer"), style=style, layout=layout)
        self.channel_slider = W.IntSlider(value=0, min=0, max=1, description=say("widgets.activations.channel"),
                                          style=style, layout=layout, continuous_update=False)
        self.view, self.info = image_view("act-view"), W.HTML()
        for widget, css in ((self.image_picker, "act-image"), (self.layer_picker, "act-layer"),
                            (self.channel_slider, "act-channel"), (self.info, "act-info")):
            widget.add_class(css)
        super().__init__([W.HBox([self.image_picker, self.layer_picker, self.channel_slider]),
                          self.view, self.info])
        self.add_class("act-explorer")
        self.state, self.renders, self._cache = {}, 0, {}
        channels = self._features(self.image_picker.value)[1][self.layer_picker.value].shape[-1]
        self.channel_slider.max = channels - 1
        self.channel_slider.value = min(channel, channels - 1)
        self.image_picker.observe(self._on_change, names="value")
        self.layer_picker.observe(self._on_layer, names="value")
        self.channel_slider.observe(self._on_change, names="value")
        self._render()

    def _features(self, name):
        """(uint8 photo, {layer: activation}) for one image, computed once."""
        if name not in self._cache:
            path = self.images[name]
            if path is None:
                shape = predictions.input_size(self.model) + (3,)
                x = np.random.default_rng(config.SEED).random(shape).astype("float32")
                x = x * 255.0 if predictions.rescales_inside(self.model) else x
            else:
                x = predictions.load_image(path, self.model)
            outs = self._extractor(x[None], training=False)
            outs = outs if isinstance(outs, (list, tuple)) else [outs]
            self._cache[name] = (predictions.to_display(x, self.model),
                                 {n: np.asarray(o)[0] for n, o in zip(self.names, outs)})
        return self._cache[name]

    def _render(self):
        photo, acts = self._features(self.image_picker.value)
        layer = self.layer_picker.value
        act = acts[layer]
        k = min(self.channel_slider.value, act.shape[-1] - 1)
        fmap = act[:, :, k]
        set_image(self.view, side_by_side(photo, fmap))
        active = float((fmap > 0).mean() * 100)
        self.info.value = (say("widgets.activations.info", layer=layer, channel=k, channels=act.shape[-1],
                               height=fmap.shape[0], width=fmap.shape[1], max=float(fmap.max()), active=active)
                           + (say("widgets.activations.blank") if fmap.max() <= 0 else ""))
        self.activation = fmap
        self.state.update(image=self.image_picker.value, layer=layer, channel=k, activation=fmap,
                          photo=photo, shape=tuple(act.shape))
        self.renders += 1

    def _on_layer(self, change):
        self.channel_slider.unobserve(self._on_change, names="value")  # one render per change
        channels = self._features(self.image_picker.value)[1][change["new"]].shape[-1]
        self.channel_slider.max = channels - 1
        self.channel_slider.value = min(self.channel_slider.value, channels - 1)
        self.channel_slider.observe(self._on_change, names="value")
        self._render()

    def _on_change(self, _):
        self._render()


def activation_explorer(model, images=None, layer=None, channel=0):
    """The activation explorer widget; images: {label: path} (default: two test images per class)."""
    return ActivationExplorer(model, images=images, layer=layer, channel=channel)
