"""Image files to arrays: load, any Pillow mode to 8-bit RGB, EXIF orientation, resize and scale like each pipeline;
values to colours for showing.

Two pipelines train the course's models and each reads pictures its own way:
- "generator" (ImageDataGenerator.flow_from_directory, notebooks 04 and 06): keras.utils.load_img with
  nearest-neighbour resizing, then pixels scaled by 1/255;
- "dataset" (image_dataset_from_directory, notebook 08): the full-size picture resized by
  tf.image.resize (bilinear), pixels kept at 0-255 (the model's Rescaling layer scales them).
"""
import re
import struct
import warnings
from pathlib import Path

import numpy as np

from .config import IMAGE_SIZE

PIPELINES = ("generator", "dataset")

# The most pixels a photo may have, read from its header before any decoding: 8192 x 8192, about 67 megapixels
# (a 64-megapixel phone photo fits; 200 MB of 8-bit RGB once decoded). Pillow's own limit is 2.7 times larger.
MAX_PIXELS = 8192 * 8192


class ImageProblem(ValueError):
    """A file that opens as an image but cannot be used as a photo; the message says why and what to do."""


class TooManyPixels(ImageProblem):
    """An image whose header claims more than MAX_PIXELS pixels: refused before it is decoded."""


def pixel_problem(size, limit=MAX_PIXELS):
    """None when an image of size (width, height) has at most `limit` pixels; else why not, in a few words.

    For a skipped-files list: "image too large to open safely (15,000 x 10,000 = 150,000,000 pixels; the limit
    is 67,108,864, e.g. 8192 x 8192)".
    """
    width, height = (int(n) for n in size)
    if width * height <= limit:
        return None
    side = int(limit ** 0.5)
    return (f"image too large to open safely ({width:,} x {height:,} = {width * height:,} pixels; "
            f"the limit is {limit:,}, e.g. {side} x {side})")


def check_pixels(img, name, limit=MAX_PIXELS):
    """Return img, an opened Pillow image not decoded yet (Image.open reads only the header), if it has at most
    `limit` pixels; else raise TooManyPixels "NAME: image too large to open safely (...); use a smaller copy"."""
    problem = pixel_problem(img.size, limit)
    if problem:
        raise TooManyPixels(f"{name}: {problem}; use a smaller copy of the photo.")
    return img


def rgb8(img, background=(255, 255, 255)):
    """Any Pillow image as 8-bit RGB, like the training photos: 16-bit and float greys scaled to 0-255,
    palette, greyscale and CMYK converted, transparency flattened onto a white background."""
    from PIL import Image

    if img.mode.startswith("I") or img.mode == "F":  # 16/32-bit integer or float greys
        a = np.asarray(img, dtype=np.float64)
        bad = a.size - np.count_nonzero(np.isfinite(a))
        if bad:  # NaN or infinite floats (scientific TIFFs): no colour to give them
            raise ImageProblem(f"{bad:,} of its {a.size:,} pixel values are not numbers (NaN or infinite), "
                               "so it is not a picture; save it as an 8-bit JPEG or PNG.")
        top = a.max() if a.size else 0.0
        full = (65535.0 if img.mode.startswith("I;16") else 1.0 if img.mode == "F" and top <= 1.0
                else 255.0 if top <= 255 else 65535.0 if top <= 65535 else top)
        img = Image.fromarray(np.clip(np.rint(a * (255.0 / full)), 0, 255).astype(np.uint8), "L")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, background + (255,)), rgba).convert("RGB")
    return img if img.mode == "RGB" else img.convert("RGB")


# What Pillow raises on a damaged EXIF block (tried on JPEGs with corrupted EXIF bytes).
DAMAGED_EXIF = (OSError, SyntaxError, ValueError, TypeError, KeyError, struct.error)


def upright(img):
    """The image turned the way its EXIF orientation tag says (phones store photos sideways)."""
    from PIL import ImageOps

    try:
        return ImageOps.exif_transpose(img)
    except DAMAGED_EXIF:  # the pixels are still fine as stored
        return img


def _check_file(path):
    """The path as a Path; a clear error when it is a folder or missing."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path}: is a directory, not an image file; pass the image files in it "
                         f"(e.g. {path}/*.jpg).")
    if path.is_symlink() and not path.exists():
        raise FileNotFoundError(f"{path}: is a link to a file that does not exist; pass the image file itself.")
    if path.exists() and not path.is_file():  # a fifo, socket or device: reading it could wait for ever
        raise ValueError(f"{path}: is not a regular file (a pipe, socket or device); pass an image file.")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file; check the path.")
    return path


def open_rgb(path, size=None, orient=False):
    """One image file as an 8-bit RGB Pillow image (rgb8), resized nearest-neighbour to size (h, w) if given.

    orient=True first applies the EXIF orientation (a learner's own photos; the training photos are read
    as stored, like Keras does). A picture of more than MAX_PIXELS pixels is refused from its header, before
    it is decoded. Every failure is one ValueError (or FileNotFoundError) naming the file and the fix.
    """
    from PIL import Image, UnidentifiedImageError

    path = _check_file(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                check_pixels(img, path)  # before upright(): reading a PNG's EXIF can decode the whole image
                out = rgb8(upright(img) if orient else img)
                if size is not None:  # keras.utils.load_img(target_size=...) default: nearest
                    out = out.resize((size[1], size[0]), Image.NEAREST)
                return out.copy() if out is img else out  # decoded here; the file closes on return
    except ImageProblem as err:
        raise type(err)(str(err) if str(err).startswith(f"{path}: ") else f"{path}: {err}") from None
    except Image.DecompressionBombError as err:  # Pillow's own limit, checked in Image.open
        found = re.search(r"\((\d+) pixels\)", str(err))
        count = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
        side = int(MAX_PIXELS ** 0.5)
        raise TooManyPixels(f"{path}: image too large to open safely ({count}; the limit is {MAX_PIXELS:,}, "
                            f"e.g. {side} x {side}); use a smaller copy of the photo.") from None
    except PermissionError:
        raise ValueError(f"{path}: cannot be read (permission denied); check the file's permissions.") from None
    except UnidentifiedImageError:
        raise ValueError(f"{path}: not a readable image (not an image format Pillow knows); "
                         "use a JPEG or PNG photo.") from None
    except (OSError, ValueError, SyntaxError, EOFError) as err:
        detail = str(err).replace(f" {str(path)!r}", "").replace(str(path), "the file")  # the path is said once
        raise ValueError(f"{path}: not a readable image ({type(err).__name__}: {detail}); "
                         "use a JPEG or PNG photo.") from None


def load_rgb(path, orient=False):
    """One image file as a uint8 (h, w, 3) array at its own size, for showing."""
    return np.asarray(open_rgb(path, orient=orient), dtype=np.uint8)


def model_input(path, size=IMAGE_SIZE, pipeline="generator", orient=False):
    """One image file as the float32 (h, w, 3) array a pipeline feeds the model (see the module docstring).

    helpers.predictions.load_image picks the size and the pipeline from a model.
    """
    import keras

    if pipeline not in PIPELINES:
        raise ValueError(f"unknown pipeline {pipeline!r}: use one of {', '.join(PIPELINES)}")
    if pipeline == "generator":
        return keras.utils.img_to_array(open_rgb(path, size, orient=orient), dtype="float32") / 255.0
    import tensorflow as tf

    pixels = keras.utils.img_to_array(open_rgb(path, orient=orient), dtype="float32")
    return tf.image.resize(pixels, size, method="bilinear").numpy().astype("float32")


def load_generator_image(path, size=IMAGE_SIZE):
    """A training photo as flow_from_directory reads it before rescaling: keras.utils.load_img, float32 0-255."""
    import keras

    img = keras.utils.load_img(path, target_size=size, interpolation="nearest")
    return keras.utils.img_to_array(img, dtype="float32")


def load_gray(path, size=IMAGE_SIZE):
    """A picture as a float (height, width) array in 0..1, resized bilinearly (the convolution explorer's input)."""
    import keras

    img = keras.utils.load_img(path, color_mode="grayscale", target_size=size, interpolation="bilinear")
    return keras.utils.img_to_array(img, dtype="float64")[:, :, 0] / 255.0


def display_array(image, pipeline="generator"):
    """A preprocessed image (model_input) back to uint8 pixels for showing."""
    image = np.asarray(image, dtype="float32")
    if pipeline == "dataset":
        return np.clip(image, 0, 255).astype("uint8")
    return np.clip(image * 255.0, 0, 255).astype("uint8")


def colormap_lut(name="viridis"):
    """A (256, 3) uint8 lookup table of a matplotlib colour map: entry i is the map at i / 255."""
    import matplotlib

    return matplotlib.colormaps[name](np.arange(256), bytes=True)[:, :3]


def colorize(values, vmin=None, vmax=None, cmap="viridis"):
    """A float (h, w) array as uint8 RGB through a colour map, scaled from vmin..vmax (default: its min..max)."""
    x = np.asarray(values, dtype=np.float64)
    vmin = float(x.min()) if vmin is None else vmin
    vmax = float(x.max()) if vmax is None else vmax
    span = vmax - vmin if vmax > vmin else 1.0
    return colormap_lut(cmap)[np.clip((x - vmin) * (255.0 / span), 0, 255).astype(np.uint8)]
