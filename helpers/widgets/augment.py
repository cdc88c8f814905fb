"""The augmentation explorer (section 5.2.5): every ImageDataGenerator option, n augmented versions, the call."""
from pathlib import Path

import ipywidgets as W
import numpy as np
from PIL import Image
from tensorflow.keras.preprocessing.image import ImageDataGenerator

from .. import config, i18n, synthetic
from ..i18n import say
from ..images import load_generator_image
from ..training import BOOK_AUGMENTATION
from .render import tile_grid, to_png

# ImageDataGenerator's defaults: an option is printed only when it differs from these.
AUG_DEFAULTS = dict(rotation_range=0, width_shift_range=0.0, height_shift_range=0.0,
                    shear_range=0.0, zoom_range=0.0, horizontal_flip=False, fill_mode="nearest",
                    cval=0.0, brightness_range=None, channel_shift_range=0.0)
AUG_BOOK = BOOK_AUGMENTATION  # listing 5.11's settings, the table training uses (shear_range in degrees)
CSS = {"image": "aug-image", "rotation_range": "aug-rotation", "width_shift_range": "aug-width-shift",
       "height_shift_range": "aug-height-shift", "shear_range": "aug-shear", "zoom_range": "aug-zoom",
       "horizontal_flip": "aug-hflip", "fill_mode": "aug-fill-mode", "cval": "aug-cval",
       "brightness": "aug-brightness", "channel_shift_range": "aug-channel-shift", "n": "aug-count"}

# The learner's texts; the controls named after ImageDataGenerator's arguments keep those names (they are code).
i18n.messages({
    "widgets.augment.image": "training image",
    "widgets.augment.cval": "cval (constant)",
    "widgets.augment.versions": "versions",
    "widgets.augment.redraw": "new random draw",
    "widgets.augment.generated": "generated image (prepare the data to pick a training photo)",
    "widgets.augment.info": "Each tile is one random draw of the settings on the left. shear_range is in degrees "
                            "(the book's 0.2 meant radians, about 11.5°).",
    "widgets.augment.no_images": " No training images found: showing a generated image.",
})


def _fallback_image(seed):
    """A stand-in training image when no data is prepared: a synthetic cat."""
    return synthetic.draw_image("cat", synthetic.image_seed(seed, "cat", 0)).convert("RGB")


def training_images(n=8, seed=None):
    """Up to n (label, path) pairs from the training split, or [] if the data is not prepared."""
    try:
        from .. import data
        paths = data.sample_paths("train", n=n, seed=config.SEED if seed is None else seed)
    except OSError:  # no split yet (FileNotFoundError) or an unreadable data folder
        return []
    return [(f"{Path(p).parent.name}/{Path(p).name}", str(p)) for p in paths]


def load_explorer_image(path, seed=None):
    """One image as the generators see it: 150x150 RGB float32 array (0-255)."""
    if path:
        return load_generator_image(path, config.IMAGE_SIZE)
    img = _fallback_image(config.SEED if seed is None else seed)
    # flow_from_directory's default resize is nearest-neighbour; (width, height) order for Pillow.
    img = img.resize((config.IMAGE_SIZE[1], config.IMAGE_SIZE[0]), Image.NEAREST)
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
    state = np.random.get_state()  # random_transform reseeds NumPy's global generator
    try:
        return [datagen.random_transform(x.copy(), seed=seed + i) for i in range(n)]
    finally:
        np.random.set_state(state)


def grid_png(images, cols=None, gap=4, background=(255, 255, 255)):
    """Tile equally sized images into one PNG (bytes); also return the uint8 grid array."""
    canvas = tile_grid(images, cols, gap, background)
    return to_png(canvas), canvas


def _controls(start, choices, n):
    """The explorer's controls by option name, each with its CSS class."""
    style, layout = {"description_width": "150px"}, W.Layout(width="420px")

    def fslider(desc, value, lo, hi, step, fmt=".2f"):
        return W.FloatSlider(value=value, min=lo, max=hi, step=step, description=desc,
                             readout_format=fmt, style=style, layout=layout, continuous_update=False)

    controls = {
        "image": W.Dropdown(options=choices, value=choices[0][1], description=say("widgets.augment.image"),
                            style=style, layout=layout),
        "rotation_range": W.IntSlider(value=start["rotation_range"], min=0, max=180, step=5,
                                      description="rotation_range (°)", style=style, layout=layout,
                                      continuous_update=False),
        "width_shift_range": fslider("width_shift_range", start["width_shift_range"], 0, 0.5, 0.05),
        "height_shift_range": fslider("height_shift_range", start["height_shift_range"], 0, 0.5, 0.05),
        "shear_range": fslider("shear_range (°)", start["shear_range"], 0, 45, 0.5, ".1f"),
        "zoom_range": fslider("zoom_range", start["zoom_range"], 0, 0.5, 0.05),
        "horizontal_flip": W.Checkbox(value=start["horizontal_flip"], description="horizontal_flip",
                                      style=style, layout=layout),
        "fill_mode": W.Dropdown(options=["nearest", "constant", "reflect", "wrap"],
                                value=start["fill_mode"], description="fill_mode", style=style, layout=layout),
        "cval": W.IntSlider(value=int(start["cval"]), min=0, max=255, description=say("widgets.augment.cval"),
                            style=style, layout=layout, continuous_update=False),
        "brightness": fslider("brightness_range ±", 0.0, 0, 0.8, 0.05),
        "channel_shift_range": fslider("channel_shift_range", start["channel_shift_range"], 0, 100, 5, ".0f"),
        "n": W.Dropdown(options=[4, 9, 16], value=n if n in (4, 9, 16) else 9,
                        description=say("widgets.augment.versions"), style=style, layout=layout),
    }
    for key, css in CSS.items():
        controls[key].add_class(css)
    return controls


class AugmentationExplorer(W.VBox):
    """Sliders for every ImageDataGenerator option, a grid of n augmented versions of one training image,
    and the ImageDataGenerator(...) call that makes them; `.state` holds what is on screen."""

    def __init__(self, n=9, seed=None, paths=None, book_settings=True):
        seed = config.SEED if seed is None else seed
        choices = [(Path(p).parent.name + "/" + Path(p).name, str(p)) for p in paths] if paths \
            else training_images(8, seed)
        self.fallback = not choices
        if self.fallback:
            choices = [(say("widgets.augment.generated"), "")]
        self.controls = _controls({**AUG_DEFAULTS, **(AUG_BOOK if book_settings else {})}, choices, n)
        self.redraw = W.Button(description=say("widgets.augment.redraw"), icon="refresh")
        self.grid, self.code, self.info = W.Image(format="png"), W.HTML(), W.HTML()
        self.redraw.add_class("aug-redraw")
        self.grid.add_class("aug-grid")
        self.code.add_class("aug-code")
        super().__init__([W.HBox([W.VBox(list(self.controls.values()) + [self.redraw]),
                                  W.VBox([self.grid, self.info])]), self.code])
        self.add_class("aug-explorer")
        self.state = {"seed": seed}
        self._seed, self._cache = seed, {}
        for control in self.controls.values():
            control.observe(self.update, names="value")
        self.redraw.on_click(self.new_draw)
        self.update()

    def settings(self):
        """The controls' values as ImageDataGenerator options (brightness as a range)."""
        values = {k: c.value for k, c in self.controls.items() if k in AUG_DEFAULTS}
        b = self.controls["brightness"].value
        values["brightness_range"] = (round(1 - b, 4), round(1 + b, 4)) if b > 0 else None
        values["cval"] = float(self.controls["cval"].value)
        return values

    def update(self, *_):
        """Augment the picked image with the current settings and show the grid and the call."""
        path = self.controls["image"].value
        if path not in self._cache:
            self._cache[path] = load_explorer_image(path or None, self._seed)
        x = self._cache[path]
        kwargs = augmentation_kwargs(self.settings())
        self.controls["cval"].disabled = self.controls["fill_mode"].value != "constant"
        seed = self.state["seed"]
        images = augment_image(ImageDataGenerator(**kwargs), x, self.controls["n"].value, seed)
        png, canvas = grid_png(images)
        call = augmentation_call(kwargs)
        self.grid.value = png
        self.code.value = (f"<pre style='font-size:12px'>datagen = {call}\n"
                           f"# this preview: datagen.random_transform(x, seed={seed} + i)"
                           f" for i in range({len(images)})</pre>")
        self.info.value = ("<small>" + say("widgets.augment.info")
                           + (say("widgets.augment.no_images") if self.fallback else "") + "</small>")
        self.state.update(image=x, images=images, grid=canvas, kwargs=kwargs, call=call, path=path)

    def new_draw(self, _=None):
        """Another set of random draws with the same settings."""
        self.state["seed"] += 1000
        self.update()


def augmentation_explorer(n=9, seed=None, paths=None, book_settings=True):
    """The augmentation explorer widget (section 5.2.5) over training photos, or a drawn cat without data."""
    return AugmentationExplorer(n=n, seed=seed, paths=paths, book_settings=book_settings)
