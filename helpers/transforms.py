"""ImageDataGenerator's random rotation, shift, shear and zoom done with Pillow: Keras' matrix, Keras' pixels, less CPU.

Keras' legacy `apply_affine_transform` builds one 3x3 matrix from a picture's random parameters and resamples each
channel with `scipy.ndimage.affine_transform` (order-1 spline, that is bilinear, 'nearest' fill: the edge pixels
repeat outwards). `affine(x, params)` builds the same matrix and resamples with Pillow's bilinear `Image.transform`
on 32-bit float channels, after repeating the edge pixels outwards as far as the transform reads: the same pixels
(tests/test_transforms.py compares them with Keras' own) in about half the CPU time. `helpers.speed` puts it in an
ImageDataGenerator subclass's public `apply_transform`.
"""
import numpy as np
from PIL import Image

AFFINE_DEFAULTS = {"theta": 0, "tx": 0, "ty": 0, "shear": 0, "zx": 1, "zy": 1}


def affine_matrix(params, height, width):
    """Keras' matrix for a picture's random parameters: input (row, col, 1) = matrix @ output (row, col, 1)."""
    p = {**AFFINE_DEFAULTS, **{k: params[k] for k in AFFINE_DEFAULTS if params.get(k) is not None}}
    theta, shear = np.deg2rad(p["theta"]), np.deg2rad(p["shear"])
    m = np.array([[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0], [0, 0, 1]])
    m = m @ np.array([[1, 0, p["tx"]], [0, 1, p["ty"]], [0, 0, 1]])
    m = m @ np.array([[1, -np.sin(shear), 0], [0, np.cos(shear), 0], [0, 0, 1]])
    m = m @ np.array([[p["zx"], 0, 0], [0, p["zy"], 0], [0, 0, 1]])
    # Keras' transform_matrix_offset_center(m, height, width): its first offset is height / 2 - 0.5, applied to
    # what becomes the column axis after the swap below (oblong pictures turn about a point off their centre)
    o1, o2 = height / 2 - 0.5, width / 2 - 0.5
    m = np.array([[1, 0, o1], [0, 1, o2], [0, 0, 1]]) @ m @ np.array([[1, 0, -o1], [0, 1, -o2], [0, 0, 1]])
    m[:, [0, 1]] = m[:, [1, 0]]  # Keras builds it for (x, y) and swaps it for (row, col)
    m[[0, 1]] = m[[1, 0]]
    return m


def is_identity(params):
    """True when the parameters move no pixel (Keras then leaves the picture untouched)."""
    return all(params.get(k, v) in (None, v) for k, v in AFFINE_DEFAULTS.items())


def edge_margin(matrix, height, width):
    """How many pixels beyond each edge the transform reads, plus 2: how far to repeat the edge pixels."""
    corners = np.array([[0, 0, 1], [0, width - 1, 1], [height - 1, 0, 1], [height - 1, width - 1, 1]], float)
    rows, cols = (corners @ matrix[:2].T).T
    beyond = max(0.0, -rows.min(), -cols.min(), rows.max() - (height - 1), cols.max() - (width - 1))
    return int(np.ceil(beyond)) + 2


def pillow_coefficients(matrix, margin):
    """Pillow's AFFINE data for the matrix on a picture padded by margin (Pillow samples at pixel centres + 0.5)."""
    a = (matrix[1, 1], matrix[1, 0], matrix[1, 2] + margin)  # input column from output (column, row)
    b = (matrix[0, 1], matrix[0, 0], matrix[0, 2] + margin)  # input row
    return (a[0], a[1], a[2] + 0.5 - 0.5 * (a[0] + a[1]), b[0], b[1], b[2] + 0.5 - 0.5 * (b[0] + b[1]))


def affine(x, params):
    """Keras' apply_affine_transform of a (height, width, channels) float32 picture (bilinear, 'nearest' fill)."""
    if is_identity(params):
        return x
    height, width, channels = x.shape
    matrix = affine_matrix(params, height, width)
    margin = edge_margin(matrix, height, width)
    coefficients = pillow_coefficients(matrix, margin)
    out = np.empty(x.shape, np.float32)
    for c in range(channels):
        band = Image.fromarray(np.pad(x[:, :, c], margin, mode="edge"))  # float32: mode "F"
        out[:, :, c] = band.transform((width, height), Image.Transform.AFFINE, coefficients,
                                      resample=Image.Resampling.BILINEAR)
    return out


def supported(datagen, x):
    """True when affine() gives what this ImageDataGenerator's own transform gives for picture x."""
    return (datagen.fill_mode == "nearest" and datagen.interpolation_order == 1
            and (datagen.row_axis, datagen.col_axis, datagen.channel_axis) == (1, 2, 3)
            and x.ndim == 3 and x.dtype == np.float32)


def affine_done(x, params):
    """(picture, parameters) with the rotation, shift, shear and zoom done by affine() and cleared from the parameters.

    Keras' own apply_transform then does the rest (channel shift, flips, brightness) in its own order:
    `ImageDataGenerator.apply_transform(*affine_done(x, params))` gives Keras' pixels for any supported generator.
    """
    return affine(x, params), {**params, **AFFINE_DEFAULTS}
