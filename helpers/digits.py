"""The handwritten digits of section 5.1: MNIST when the learner has it, else digits drawn with Pillow from one seed.

    (train_images, train_labels), (test_images, test_labels) = digits.load()   # what mnist.load_data() returns
    print(digits.data_line())                                                    # which data this run used

MNIST is read from Keras' own cache (`$KERAS_HOME/datasets/mnist.npz`, else `~/.keras/datasets/mnist.npz`) or
from the course's copy (`<data>/mnist/mnist.npz`, made by `download_mnist()`: resumed, retried and checked with
the SHA-256 that Keras' own loader checks; a file that does not match is set aside as `.bad`). Without it, the
offline default: digits drawn as pen strokes (a skeleton per digit, its points jittered, an affine distortion,
a random pen width, drawn 4x larger and scaled down, centred by mass in 28x28 as MNIST is). The same seed gives
the same images on every machine (no system fonts); image i of a set does not depend on how many are drawn.
"""
import os
import sys
from pathlib import Path

import numpy as np

from . import config
from .data import download

MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"  # keras.datasets.mnist's
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"  # the hash Keras checks
MNIST_LIMIT = 32 << 20  # the most bytes a download may bring (the file is about 11 MB)
MNIST = "mnist"
DRAWN = "drawn"
SIDE = 28
# Images (training, test) and the book's 5 epochs, by profile: the quick one a subset and 2 epochs.
SIZES = {"full": (60_000, 10_000), "quick": (6_000, 1_000)}
EPOCHS = {"full": 5, "quick": 2}
DRAWN_SEED = 2025  # the drawn set's seed (the models' seeds are config.SEED and the reference runs')
VERSION = 2  # of the drawing: a new version is a new data set (new reference runs, a new cache file)


# ---------------------------------------------------------------- MNIST

def keras_cache():
    """Where keras.datasets.mnist.load_data() keeps mnist.npz: $KERAS_HOME/datasets, else ~/.keras/datasets."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "mnist.npz"


def course_copy():
    """Where download_mnist() puts mnist.npz: <data>/mnist/mnist.npz."""
    return config.data_dir() / MNIST / "mnist.npz"


def npz_problem(path):
    """Why `path` is not an MNIST-format .npz (x_train/y_train/x_test/y_test, uint8, 28x28 images), or None."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {key: f[key] for key in ("x_train", "y_train", "x_test", "y_test")}
    except (OSError, ValueError, KeyError, EOFError) as e:
        return f"is not a NumPy .npz file with MNIST's arrays ({type(e).__name__}: {e})"
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if x.dtype != np.uint8 or y.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (SIDE, SIDE):
            return f"holds x_{part} {x.dtype}{x.shape} and y_{part} {y.dtype}{y.shape}, not uint8 28x28 images"
        if len(x) != len(y) or not len(x) or y.max() > 9:
            return f"holds {len(x)} images and {len(y)} labels (0-9) in x_{part}/y_{part}"
    return None


def read_npz(path):
    """((x_train, y_train), (x_test, y_test)) from an MNIST-format .npz, as keras.datasets.mnist returns them."""
    problem = npz_problem(path)
    if problem:
        raise ValueError(f"{path} {problem}.")
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def find_mnist(sha256=MNIST_SHA256):
    """The first mnist.npz on this machine (Keras' cache, then the course's copy) with Keras' checksum, or None."""
    from .files import sha256_file

    for path in (keras_cache(), course_copy()):
        if path.is_file() and sha256_file(path) == sha256:
            return path
    return None


def download_mnist(url=MNIST_URL, sha256=MNIST_SHA256, dest=None, progress=True):
    """Download mnist.npz into the data folder (resume, retries, Keras' checksum; a bad file is set aside).

    Returns the path. Once there, load() uses MNIST instead of the drawn digits.
    """
    dest = Path(dest) if dest else course_copy()
    return download.download(url, dest, sha256=sha256, progress=progress, limit=MNIST_LIMIT, check=npz_problem)


# ---------------------------------------------------------------- the drawn digits

def _arc(cx, cy, rx, ry, start, end, n=14):
    """Points on an ellipse from angle start to end (degrees; 0 right, 90 down, y grows downwards)."""
    t = np.radians(np.linspace(start, end, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _line(*points):
    return np.array(points, dtype=float)


# Each digit: variants, each a list of strokes (arrays of (x, y) points in a box 0..1 wide and high).
SKELETONS = {
    0: [[_arc(0.5, 0.5, 0.36, 0.48, -90, 270, 24)],
        [_arc(0.5, 0.5, 0.3, 0.48, -60, 300, 24)]],
    1: [[_line((0.5, 0.0), (0.5, 1.0))],
        [_line((0.25, 0.22), (0.55, 0.0), (0.55, 1.0))],
        [_line((0.3, 0.2), (0.55, 0.0), (0.55, 1.0)), _line((0.3, 1.0), (0.8, 1.0))]],
    2: [[np.vstack([_arc(0.5, 0.3, 0.36, 0.3, 190, 380), _line((0.1, 1.0), (0.92, 1.0))])],
        [np.vstack([_arc(0.5, 0.28, 0.34, 0.28, 200, 400), _line((0.15, 0.95), (0.35, 0.85), (0.9, 1.0))])]],
    3: [[_arc(0.48, 0.26, 0.32, 0.26, 200, 450), _arc(0.48, 0.74, 0.36, 0.26, 270, 520)],
        [np.vstack([_line((0.15, 0.0), (0.85, 0.0), (0.4, 0.42)), _arc(0.48, 0.7, 0.36, 0.3, 280, 510)])]],
    4: [[_line((0.7, 1.0), (0.7, 0.0), (0.08, 0.68), (0.95, 0.68))],
        [_line((0.2, 0.0), (0.15, 0.6), (0.9, 0.6)), _line((0.72, 0.25), (0.72, 1.0))]],
    5: [[np.vstack([_line((0.85, 0.0), (0.22, 0.0), (0.18, 0.45)), _arc(0.48, 0.68, 0.36, 0.3, 220, 500)])],
        [_line((0.22, 0.02), (0.18, 0.45)), _arc(0.48, 0.68, 0.36, 0.3, 220, 500), _line((0.22, 0.02), (0.85, 0.0))]],
    6: [[np.vstack([_line((0.78, 0.0), (0.42, 0.22), (0.18, 0.6)), _arc(0.5, 0.7, 0.32, 0.3, 180, 540)])],
        [np.vstack([_arc(0.95, 0.62, 0.75, 0.62, 250, 180, 10), _arc(0.5, 0.72, 0.3, 0.28, 180, 530)])]],
    7: [[_line((0.08, 0.0), (0.92, 0.0), (0.38, 1.0))],
        [_line((0.08, 0.05), (0.92, 0.0), (0.45, 1.0)), _line((0.4, 0.5), (0.85, 0.5))]],
    8: [[_arc(0.5, 0.26, 0.28, 0.25, -90, 270, 20), _arc(0.5, 0.74, 0.34, 0.26, -90, 270, 20)],
        [np.vstack([_arc(0.5, 0.25, 0.27, 0.25, 90, -200, 16), _arc(0.5, 0.74, 0.33, 0.26, -90, 270, 20)])]],
    9: [[_arc(0.5, 0.3, 0.33, 0.3, 0, 360, 22), _line((0.83, 0.3), (0.72, 1.0))],
        [np.vstack([_arc(0.5, 0.3, 0.33, 0.3, 0, 360, 22), _line((0.83, 0.3), (0.8, 1.0))])]],
}
SCALE = 4  # drawn this many times larger, then scaled down (antialiasing)
BOX = 20  # MNIST's digits fit a 20x20 box, centred by mass in 28x28


# How far the drawn digits vary (tuned until chapter 2's dense network misses about as often as on MNIST).
STYLE = {"jitter": 0.03, "wobble": 0.08, "rotate": 12.0, "shear": 0.3, "narrow": (0.5, 1.1), "pen": (1.0, 3.8)}


def _resample(stroke, step=0.04):
    """The stroke's polyline with points about `step` apart (so its noise is the same along lines and arcs)."""
    lengths = np.r_[0, np.cumsum(np.hypot(*np.diff(stroke, axis=0).T))]
    at = np.linspace(0, lengths[-1], max(2, int(lengths[-1] / step) + 1))
    return np.stack([np.interp(at, lengths, stroke[:, 0]), np.interp(at, lengths, stroke[:, 1])], axis=1)


def _smooth_noise(rng, n, scale):
    """n 2D offsets that wander smoothly (a random walk, averaged over 5 neighbours), about `scale` in size."""
    walk = np.cumsum(rng.normal(0, scale, size=(n + 4, 2)), axis=0) / 2
    smooth = np.stack([np.convolve(walk[:, k], np.ones(5) / 5, mode="valid") for k in range(2)], axis=1)
    return smooth - smooth.mean(axis=0)


def draw_digit(label, rng, style=None):
    """One 28x28 uint8 image of the digit `label`, its randomness from `rng`."""
    from PIL import Image, ImageDraw

    style = {**STYLE, **(style or {})}
    strokes = SKELETONS[label][rng.integers(len(SKELETONS[label]))]
    pts = [p + _smooth_noise(rng, len(p), style["jitter"]) for p in map(_resample, strokes)]  # an unsteady hand
    # a smooth random wobble, then a random affine distortion (slant, rotation, width)
    ax, ay = rng.uniform(0, style["wobble"], 2)
    px, py = rng.uniform(0, 2 * np.pi, 2)
    pts = [np.stack([p[:, 0] + ax * np.sin(2 * np.pi * p[:, 1] + px), p[:, 1] + ay * np.sin(2 * np.pi * p[:, 0] + py)],
                    axis=1) for p in pts]
    angle, shear = np.radians(rng.normal(0, style["rotate"])), rng.normal(0, style["shear"])
    sx, sy = rng.uniform(*style["narrow"]), rng.uniform(0.85, 1.1)
    cos, sin = np.cos(angle), np.sin(angle)
    matrix = np.array([[cos, -sin], [sin, cos]]) @ np.array([[1, shear], [0, 1]]) @ np.diag([sx, sy])
    pts = [(p - 0.5) @ matrix.T for p in pts]
    every = np.vstack(pts)
    low, high = every.min(axis=0), every.max(axis=0)
    width = rng.uniform(*style["pen"]) * SCALE
    size = (BOX * SCALE - width) / max(high - low)  # the ink, pen included, fits MNIST's 20x20 box
    canvas = Image.new("L", (SIDE * SCALE, SIDE * SCALE), 0)
    pen = ImageDraw.Draw(canvas)
    ink = int(rng.integers(190, 256))
    centre = SIDE * SCALE / 2
    for p in pts:
        xy = (p - (low + high) / 2) * size + centre
        pen.line([tuple(q) for q in xy.tolist()], fill=ink, width=round(width))
        r = width / 2
        for x, y in xy.tolist():  # a round pen: a dot at every point joins the segments smoothly
            pen.ellipse((x - r, y - r, x + r, y + r), fill=ink)
    image = np.asarray(canvas.resize((SIDE, SIDE), Image.Resampling.BOX), dtype=np.float32)
    # centre by mass, as MNIST did (an integer shift of at most 3 pixels)
    total = image.sum()
    if total > 0:
        rows, cols = np.indices(image.shape)
        dy = round((SIDE - 1) / 2 - (rows * image).sum() / total)
        dx = round((SIDE - 1) / 2 - (cols * image).sum() / total)
        image = np.roll(image, (int(np.clip(dy, -3, 3)), int(np.clip(dx, -3, 3))), axis=(0, 1))
    return np.clip(image, 0, 255).astype(np.uint8)


def drawn_set(n, part, seed=DRAWN_SEED, style=None):
    """n drawn digits of one part ('train' or 'test'): (images uint8 (n, 28, 28), labels uint8 (n,)).

    Image i comes from its own generator (seed, part, i), so a smaller set is the start of a larger one.
    """
    stream = {"train": 0, "test": 1}[part]
    images = np.empty((n, SIDE, SIDE), dtype=np.uint8)
    labels = np.empty(n, dtype=np.uint8)
    for i in range(n):
        rng = np.random.default_rng([seed, stream, i])
        labels[i] = rng.integers(10)
        images[i] = draw_digit(int(labels[i]), rng, style)
    return images, labels


def drawn_data(n_train, n_test, seed=DRAWN_SEED):
    """((x_train, y_train), (x_test, y_test)) of drawn digits, kept in <data>/digits/ once drawn."""
    cache = config.data_dir() / "digits" / f"drawn-v{VERSION}-s{seed}-{n_train}-{n_test}.npz"
    if cache.is_file() and npz_problem(cache) is None:
        return read_npz(cache)
    train, test = drawn_set(n_train, "train", seed), drawn_set(n_test, "test", seed)
    try:
        from .files import replacing

        with replacing(cache) as tmp:
            np.savez_compressed(tmp, x_train=train[0], y_train=train[1], x_test=test[0], y_test=test[1])
    except OSError:
        pass  # a read-only data folder: draw them again next time
    return train, test


# ---------------------------------------------------------------- what the notebook calls

_last = {}


def sizes(profile=None):
    """(training images, test images) the profile uses: all of MNIST's 60,000 and 10,000 in the full one."""
    return SIZES[config.profile_name(profile)]


def load(profile=None, source=None, download_on_colab=True, sha256=MNIST_SHA256):
    """The profile's digits as keras.datasets.mnist.load_data() gives them: ((x, y), (x, y)), uint8.

    source: 'mnist', 'drawn', or None: MNIST when it is on this machine (downloaded first on Colab, which is
    online), else the drawn digits. The quick profile takes the first 6,000 and 1,000 images.
    """
    n_train, n_test = sizes(profile)
    path = None
    if source in (None, MNIST):
        path = find_mnist(sha256)
        if path is None and (source == MNIST or (download_on_colab and "google.colab" in sys.modules)):
            path = download_mnist(sha256=sha256)
    if path is not None:
        (x_train, y_train), (x_test, y_test) = read_npz(path)
        data = (x_train[:n_train], y_train[:n_train]), (x_test[:n_test], y_test[:n_test])
        _last.update(source=MNIST, where=str(path))
    else:
        data = drawn_data(n_train, n_test)
        _last.update(source=DRAWN, where=None)
    _last.update(train=len(data[0][0]), test=len(data[1][0]))
    return data


def source_used():
    """'mnist' or 'drawn': what the last load() used (what load() would use, before any)."""
    return _last.get("source") or (MNIST if find_mnist() else DRAWN)


def data_line():
    """One line: which digits the last load() used, and how many."""
    if not _last:
        return "no digits loaded yet"
    where = "Keras' cache" if _last["where"] == str(keras_cache()) else "the course's data folder"
    what = (f"MNIST (from {where})" if _last["source"] == MNIST
            else "the course's drawn digits (the offline default; MNIST is used once it is on this machine)")
    return f"data: {what}, {_last['train']:,} training and {_last['test']:,} test images"
