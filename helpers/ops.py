"""Convolution and pooling in plain NumPy, with the same conventions as Keras (section 5.1).

Keras' Conv2D computes a cross-correlation: the kernel slides over the input without being flipped.
"same" padding splits the padding like TensorFlow: the extra row or column, if any, goes after.
Nothing here imports TensorFlow; the tests check every function against the Keras layers.
At the end, the arrays used to show activations (section 5.4.1): channel grids and blank channels.
"""
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

PADDINGS = ("valid", "same")
POOL_MODES = ("max", "avg")


def _check_padding(padding):
    """Return padding lower-cased, or raise naming the allowed values."""
    p = str(padding).lower()
    if p not in PADDINGS:
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return p


def _check_positive(name, value):
    """Return value as an int, or raise if it is not a positive integer."""
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def conv_output_size(n, k, stride=1, padding="valid"):
    """Output length along one axis: floor((n - k) / s) + 1 for 'valid', ceil(n / s) for 'same'."""
    n, k, stride = (_check_positive(name, v) for name, v in (("n", n), ("k", k), ("stride", stride)))
    if _check_padding(padding) == "same":
        return math.ceil(n / stride)
    if k > n:
        raise ValueError(f"window {k} is larger than the input {n} with padding='valid'; "
                         "use a smaller window or padding='same'")
    return (n - k) // stride + 1


def same_padding(n, k, stride=1):
    """TensorFlow's 'same' padding along one axis as (before, after); the odd cell goes after."""
    total = max((math.ceil(n / stride) - 1) * stride + k - n, 0)
    return total // 2, total - total // 2


def conv_params(kh, kw, c_in, c_out, bias=True):
    """Trainable parameters of a Conv2D layer: kh * kw * c_in * c_out weights + c_out biases."""
    return kh * kw * c_in * c_out + (c_out if bias else 0)


def _as_hwc(x, name):
    """View a 2D (H, W) or 3D (H, W, C) array as float64 (H, W, C)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3:
        raise ValueError(f"{name} must have shape (height, width) or (height, width, channels), "
                         f"got {x.shape}")
    return x


def _pad(x, kh, kw, stride, padding, value=0.0):
    """Pad an (H, W, C) array for a kh x kw window the way Keras does; return (padded, (top, left))."""
    if padding == "valid":
        return x, (0, 0)
    top, bottom = same_padding(x.shape[0], kh, stride)
    left, right = same_padding(x.shape[1], kw, stride)
    padded = np.pad(x, ((top, bottom), (left, right), (0, 0)), constant_values=value)
    return padded, (top, left)


def _windows(x, kh, kw, stride):
    """All kh x kw windows of an (H, W, C) array at the given stride: shape (oh, ow, C, kh, kw)."""
    return sliding_window_view(x, (kh, kw), axis=(0, 1))[::stride, ::stride]


def _as_kernels(kernels, c_in):
    """Kernels as float64 (kh, kw, C_in, C_out); a 2D kernel means one filter on one channel."""
    k = np.asarray(kernels, dtype=np.float64)
    if k.ndim == 2:
        k = k[:, :, None, None]
    if k.ndim != 4:
        raise ValueError(f"kernels must have shape (kh, kw, channels_in, channels_out) like "
                         f"Conv2D's weights (or (kh, kw) for one filter), got {k.shape}")
    if k.shape[2] != c_in:
        raise ValueError(f"kernels expect {k.shape[2]} input channels but the image has {c_in}; "
                         "the third kernel axis must match the image's channels")
    return k


def conv2d(image, kernels, bias=None, stride=1, padding="valid"):
    """2D convolution (cross-correlation) like keras.layers.Conv2D: (H, W, C_in) -> (oh, ow, C_out)."""
    x = _as_hwc(image, "image")
    k = _as_kernels(kernels, x.shape[2])
    kh, kw, _, c_out = k.shape
    stride = _check_positive("stride", stride)
    padding = _check_padding(padding)
    oh = conv_output_size(x.shape[0], kh, stride, padding)
    ow = conv_output_size(x.shape[1], kw, stride, padding)
    padded, _ = _pad(x, kh, kw, stride, padding)
    windows = _windows(padded, kh, kw, stride)[:oh, :ow]  # (oh, ow, C_in, kh, kw)
    out = np.einsum("ijcab,abcd->ijd", windows, k, optimize=True)
    if bias is not None:
        b = np.asarray(bias, dtype=np.float64).reshape(-1)
        if b.shape[0] != c_out:
            raise ValueError(f"bias has {b.shape[0]} values but there are {c_out} filters")
        out = out + b
    return out


def pool2d(x, size=2, stride=None, mode="max", padding="valid"):
    """Max or average pooling like MaxPooling2D / AveragePooling2D: (H, W, C) -> (oh, ow, C).

    A 2D input gives a 2D output. stride defaults to size, as in Keras. With 'same' padding the
    average counts only real cells (TensorFlow's rule) and max never picks a padded cell.
    """
    arr = np.asarray(x, dtype=np.float64)
    squeeze = arr.ndim == 2
    a = _as_hwc(arr, "x")
    size = _check_positive("size", size)
    stride = size if stride is None else _check_positive("stride", stride)
    padding = _check_padding(padding)
    mode = str(mode).lower()
    if mode not in POOL_MODES:
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    oh = conv_output_size(a.shape[0], size, stride, padding)
    ow = conv_output_size(a.shape[1], size, stride, padding)
    if mode == "max":
        padded, _ = _pad(a, size, size, stride, padding, value=-np.inf)
        out = _windows(padded, size, size, stride)[:oh, :ow].max(axis=(3, 4))
    else:
        padded, _ = _pad(a, size, size, stride, padding, value=0.0)
        real, _ = _pad(np.ones(a.shape[:2] + (1,)), size, size, stride, padding, value=0.0)
        sums = _windows(padded, size, size, stride)[:oh, :ow].sum(axis=(3, 4))
        counts = _windows(real, size, size, stride)[:oh, :ow].sum(axis=(3, 4))
        out = sums / counts
    return out[:, :, 0] if squeeze else out


def pool_argmax(x, size=2, stride=None, padding="valid"):
    """Input (row, col) of the cell each max-pooling window keeps, for a 2D map: shape (oh, ow, 2)."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"pool_argmax takes one 2D feature map, got shape {a.shape}")
    size = _check_positive("size", size)
    stride = size if stride is None else _check_positive("stride", stride)
    padding = _check_padding(padding)
    oh = conv_output_size(a.shape[0], size, stride, padding)
    ow = conv_output_size(a.shape[1], size, stride, padding)
    padded, (top, left) = _pad(a[:, :, None], size, size, stride, padding, value=-np.inf)
    win = _windows(padded, size, size, stride)[:oh, :ow, 0].reshape(oh, ow, size * size)
    flat = win.argmax(axis=2)
    rows = np.arange(oh)[:, None] * stride + flat // size - top
    cols = np.arange(ow)[None, :] * stride + flat % size - left
    return np.stack([rows, cols], axis=-1)


def conv_step(image, kernel, i, j, stride=1, padding="valid"):
    """One step of the sliding window for a 2D image and kernel: (patch, patch * kernel, value).

    The patch is the (kh, kw) input window behind output cell (i, j), zero-filled where it
    hangs over the border with 'same' padding; value = sum(patch * kernel) = conv2d(...)[i, j].
    """
    x = np.asarray(image, dtype=np.float64)
    k = np.asarray(kernel, dtype=np.float64)
    if x.ndim != 2 or k.ndim != 2:
        raise ValueError(f"conv_step takes a 2D image and a 2D kernel, got {x.shape} and {k.shape}")
    kh, kw = k.shape
    padding = _check_padding(padding)
    oh = conv_output_size(x.shape[0], kh, stride, padding)
    ow = conv_output_size(x.shape[1], kw, stride, padding)
    if not (0 <= i < oh and 0 <= j < ow):
        raise IndexError(f"output position ({i}, {j}) is outside the ({oh}, {ow}) feature map")
    top, left = window_origin(i, j, x.shape, k.shape, stride, padding)
    patch = np.zeros((kh, kw))
    r0, r1 = max(top, 0), min(top + kh, x.shape[0])
    c0, c1 = max(left, 0), min(left + kw, x.shape[1])
    patch[r0 - top:r1 - top, c0 - left:c1 - left] = x[r0:r1, c0:c1]
    product = patch * k
    return patch, product, float(product.sum())


def window_origin(i, j, input_shape, kernel_shape, stride=1, padding="valid"):
    """Input (row, col) of the top-left corner of the window behind output cell (i, j); may be < 0."""
    kh, kw = kernel_shape[:2]
    top = left = 0
    if _check_padding(padding) == "same":
        top = same_padding(input_shape[0], kh, stride)[0]
        left = same_padding(input_shape[1], kw, stride)[0]
    return i * stride - top, j * stride - left


def receptive_field(layers):
    """Input window (in pixels, per axis) one output cell sees after a stack of (kernel, stride) layers.

    Each layer widens the window by (kernel - 1) times the product of the strides before it.
    """
    size, jump = 1, 1
    for k, stride in layers:
        size += (k - 1) * jump
        jump *= stride
    return size


# --------------------------------------------------------------------------- showing activations

def normalize_channel(channel):
    """The book's display scaling of one channel: centred, 64 per std around 128, uint8."""
    channel = np.asarray(channel, dtype="float32")
    std = channel.std()
    if std < 1e-8:  # a dead (constant) channel shows as flat gray-black
        return np.zeros(channel.shape, dtype="uint8")
    scaled = (channel - channel.mean()) / std * 64 + 128
    return np.clip(scaled, 0, 255).astype("uint8")


def channel_grid(activation, cols=16, gap=1):
    """Every channel of one (h, w, c) activation tiled into one uint8 image, `cols` per row."""
    activation = np.asarray(activation)
    h, w, c = activation.shape
    cols = min(cols, c)
    rows = -(-c // cols)
    grid = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), 255, dtype="uint8")
    for k in range(c):
        r, q = divmod(k, cols)
        grid[r * (h + gap):r * (h + gap) + h, q * (w + gap):q * (w + gap) + w] = \
            normalize_channel(activation[:, :, k])
    return grid


def dead_channels(activation):
    """How many channels are zero everywhere for this image (ReLU units that did not fire)."""
    activation = np.asarray(activation)
    return int((activation.reshape(-1, activation.shape[-1]).max(axis=0) <= 0).sum())
