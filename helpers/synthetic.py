"""The offline data set: cartoon cats and dogs drawn with Pillow, reproducible from one seed.

Cats and dogs differ only in what a person looks at: cats have pointed triangular ears, almond eyes
with slit pupils, whiskers and a short muzzle; dogs have floppy or rounded ears, round eyes, a long
muzzle and a big nose. Everything else (fur colours and patterns, head size, position and rotation,
partial crops, cluttered backgrounds, lighting, blur, noise, JPEG quality, image size) is drawn from
the same distributions for both classes, so colour or background alone cannot tell them apart.
As in real photos, some pictures are ambiguous: with a small chance (CUE_SWAP) the ears, or the face,
come from the other class, so a model can memorise the training set without being right about all of it.

Files use Kaggle's layout and names (dest/train/cat.0.jpg ... dog.N.jpg): the split code treats them
exactly like the real photos.
"""
import math
import multiprocessing
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .config import KAGGLE_CLASSES, SEED

# Shared by both classes: the same fur palette, eye colours and background colours.
FUR_COLOURS = [
    (28, 26, 26), (238, 236, 228), (214, 124, 52), (132, 132, 138), (122, 82, 50),
    (228, 204, 162), (204, 162, 84), (72, 48, 32), (168, 150, 128), (92, 92, 100),
]
EYE_COLOURS = [(96, 168, 64), (214, 160, 40), (110, 70, 30), (80, 140, 200), (60, 40, 25)]
PATTERNS = ("solid", "stripes", "patches", "mask")
OTHER_CLASS = dict(zip(KAGGLE_CLASSES, reversed(KAGGLE_CLASSES)))  # cat -> dog, dog -> cat
CUE_SWAP = 0.1  # chance that the ears (and, separately, the face) are drawn from the other class


def image_seed(seed, cls, index):
    """The random generator for one image, from (seed, class, index): same image for any worker count."""
    class_id = KAGGLE_CLASSES.index(cls)
    return np.random.default_rng(np.random.SeedSequence([int(seed), class_id, int(index)]))


def cue_classes(rng, cls, swap=CUE_SWAP):
    """The classes the ears and the face are drawn from: each is the other class's with chance swap."""
    return tuple(OTHER_CLASS[cls] if rng.random() < swap else cls for _ in ("ears", "face"))


def _jitter(rng, colour, amount=18):
    """A colour with each channel nudged by up to +-amount."""
    return tuple(int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in colour)


def _random_colour(rng):
    """Any colour at all (for clutter)."""
    return tuple(int(c) for c in rng.integers(0, 256, 3))


def _background(rng, width, height):
    """A cluttered, textured background: smooth blotches, then shapes, stripes or checks."""
    low = rng.integers(0, 256, (rng.integers(2, 7), rng.integers(2, 7), 3), dtype=np.uint8)
    img = Image.fromarray(low).resize((width, height), Image.BILINEAR)
    draw = ImageDraw.Draw(img)
    kind = rng.integers(0, 3)
    if kind == 1:  # wallpaper stripes
        step = int(rng.integers(8, 40))
        colour = _random_colour(rng)
        angle = rng.uniform(0, math.pi)
        dx, dy = math.cos(angle), math.sin(angle)
        span = width + height
        for k in range(-span, span, step * 2):
            x0, y0 = width / 2 + k * dy, height / 2 - k * dx
            draw.line([(x0 - span * dx, y0 - span * dy), (x0 + span * dx, y0 + span * dy)],
                      fill=colour, width=step // 2 + 1)
    elif kind == 2:  # checks / tiles
        step = int(rng.integers(16, 60))
        colour = _random_colour(rng)
        for y in range(0, height, step):
            for x in range((y // step) % 2 * step, width, step * 2):
                draw.rectangle([x, y, x + step - 1, y + step - 1], fill=colour)
    for _ in range(int(rng.integers(6, 30))):  # clutter: boxes, blobs, lines, arcs
        x0, y0 = rng.uniform(-0.2, 1.0) * width, rng.uniform(-0.2, 1.0) * height
        x1, y1 = x0 + rng.uniform(0.03, 0.5) * width, y0 + rng.uniform(0.03, 0.5) * height
        colour, shape = _random_colour(rng), rng.integers(0, 4)
        if shape == 0:
            draw.rectangle([x0, y0, x1, y1], fill=colour)
        elif shape == 1:
            draw.ellipse([x0, y0, x1, y1], fill=colour)
        elif shape == 2:
            draw.line([x0, y0, x1, y1], fill=colour, width=int(rng.integers(1, 8)))
        else:
            draw.arc([x0, y0, x1, y1], rng.uniform(0, 360), rng.uniform(0, 360), fill=colour,
                     width=int(rng.integers(1, 8)))
    return img


def _fur(rng, size, base, second):
    """A square fur texture: solid, stripes (tabby/brindle), patches or a two-tone mask."""
    fur = Image.new("RGB", (size, size), base)
    draw = ImageDraw.Draw(fur)
    pattern = PATTERNS[rng.integers(0, len(PATTERNS))]
    if pattern == "stripes":
        step = size / rng.uniform(8, 16)
        width = max(2, int(step * rng.uniform(0.25, 0.5)))
        tilt = rng.uniform(-0.3, 0.3) * size
        for k in np.arange(-size, 2 * size, step):
            wobble = rng.uniform(-0.05, 0.05) * size
            draw.line([(k, 0), (k + tilt + wobble, size)], fill=second, width=width)
    elif pattern == "patches":
        for _ in range(int(rng.integers(2, 6))):
            cx, cy, r = rng.uniform(0, size, 2).tolist() + [rng.uniform(0.08, 0.25) * size]
            draw.ellipse([cx - r, cy - r * rng.uniform(0.6, 1.4), cx + r, cy + r], fill=second)
    elif pattern == "mask":
        draw.ellipse([size * 0.3, size * 0.42, size * 0.7, size * 1.1], fill=second)
    return fur


def _lens(cx, cy, w, h, n=12):
    """Polygon points of an almond (two circular arcs meeting at sharp corners)."""
    top = [(cx - w / 2 + w * i / n, cy - h / 2 * math.sin(math.pi * i / n)) for i in range(n + 1)]
    bottom = [(cx + w / 2 - w * i / n, cy + h / 2 * math.sin(math.pi * i / n)) for i in range(1, n)]
    return top + bottom


def _ellipse_points(centre, a, b, angle, n=24):
    """Polygon points of an ellipse with semi-axes a (across) and b (along), tilted by angle (radians)."""
    ca, sa = math.cos(angle), math.sin(angle)
    return [(centre[0] + a * math.cos(t) * ca + b * math.sin(t) * sa,
             centre[1] - a * math.cos(t) * sa + b * math.sin(t) * ca)
            for t in np.linspace(0, 2 * math.pi, n, endpoint=False)]


def _cat_features(rng, draw, c, r, fur):
    """Pointed ears, almond eyes with slit pupils, small nose, short mouth and whiskers."""
    eye = _jitter(rng, EYE_COLOURS[rng.integers(0, len(EYE_COLOURS))], 12)
    dx, ey = r * rng.uniform(0.32, 0.42), c - r * rng.uniform(0.05, 0.18)
    w, h = r * rng.uniform(0.28, 0.36), r * rng.uniform(0.15, 0.22)
    for sx in (-1, 1):
        x = c + sx * dx
        draw.polygon(_lens(x, ey, w, h), fill=eye, outline=(20, 20, 20))
        draw.ellipse([x - w * 0.07, ey - h * 0.46, x + w * 0.07, ey + h * 0.46], fill=(10, 10, 10))
    ny = c + r * rng.uniform(0.18, 0.28)
    nose = (232, 140, 150) if rng.random() < 0.5 else (50, 36, 36)
    nw = r * rng.uniform(0.07, 0.11)
    draw.polygon([(c - nw, ny - nw * 0.6), (c + nw, ny - nw * 0.6), (c, ny + nw * 0.6)], fill=nose)
    mouth = (40, 30, 30)
    mw = r * 0.1
    draw.arc([c - 2 * mw, ny, c, ny + mw * 1.4], 0, 180, fill=mouth, width=max(1, int(r * 0.025)))
    draw.arc([c, ny, c + 2 * mw, ny + mw * 1.4], 0, 180, fill=mouth, width=max(1, int(r * 0.025)))
    lightness = sum(fur) / 3
    whisker = (245, 245, 240) if lightness < 140 else (35, 35, 35)
    for sx in (-1, 1):
        for k, slope in enumerate((-0.12, 0.02, 0.16)):
            x0, y0 = c + sx * r * 0.16, ny + r * 0.06 + k * r * 0.04
            length = r * rng.uniform(0.8, 1.1)
            draw.line([(x0, y0), (x0 + sx * length, y0 + slope * length + rng.uniform(-0.05, 0.05) * r)],
                      fill=whisker, width=max(1, int(r * 0.018)))


def _dog_features(rng, draw, c, r, fur):
    """Round eyes, a long muzzle with a big nose, a mouth and sometimes a tongue."""
    eye = _jitter(rng, EYE_COLOURS[rng.integers(0, len(EYE_COLOURS))], 12)
    dx, ey = r * rng.uniform(0.3, 0.4), c - r * rng.uniform(0.12, 0.25)
    er = r * rng.uniform(0.09, 0.13)
    for sx in (-1, 1):
        x = c + sx * dx
        draw.ellipse([x - er, ey - er, x + er, ey + er], fill=eye, outline=(20, 20, 20))
        draw.ellipse([x - er * 0.55, ey - er * 0.55, x + er * 0.55, ey + er * 0.55], fill=(10, 10, 10))
        draw.ellipse([x - er * 0.45, ey - er * 0.5, x - er * 0.15, ey - er * 0.2], fill=(250, 250, 250))
    my, mh = c + r * rng.uniform(0.35, 0.45), r * rng.uniform(0.45, 0.6)
    nose_y = my - mh * rng.uniform(0.2, 0.45)
    nw, nh = r * rng.uniform(0.17, 0.24), r * rng.uniform(0.11, 0.16)
    draw.ellipse([c - nw, nose_y - nh, c + nw, nose_y + nh], fill=(22, 18, 18))
    draw.ellipse([c - nw * 0.5, nose_y - nh * 0.7, c - nw * 0.1, nose_y - nh * 0.2], fill=(90, 90, 95))
    mouth_y = nose_y + nh + r * 0.2
    width = max(1, int(r * 0.03))
    draw.line([(c, nose_y + nh), (c, mouth_y)], fill=(30, 24, 24), width=width)
    draw.arc([c - r * 0.3, mouth_y - r * 0.15, c, mouth_y + r * 0.1], 20, 160, fill=(30, 24, 24), width=width)
    draw.arc([c, mouth_y - r * 0.15, c + r * 0.3, mouth_y + r * 0.1], 20, 160, fill=(30, 24, 24), width=width)
    if rng.random() < 0.4:
        tw = r * rng.uniform(0.1, 0.15)
        draw.ellipse([c - tw, mouth_y - tw * 0.2, c + tw, mouth_y + tw * 1.8], fill=(226, 110, 130))


def _head(rng, ears, face, r):
    """An RGBA layer holding one head of radius r, centred, upright: ears and face of a 'cat' or 'dog'."""
    size = int(4 * r)
    c = size / 2
    base = _jitter(rng, FUR_COLOURS[rng.integers(0, len(FUR_COLOURS))])
    second = _jitter(rng, FUR_COLOURS[rng.integers(0, len(FUR_COLOURS))])
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    mask = Image.new("L", (size, size), 0)
    mdraw = ImageDraw.Draw(mask)
    rx, ry = r * rng.uniform(0.9, 1.1), r * rng.uniform(0.85, 1.0)
    ear_colour = base if rng.random() < 0.5 else second
    ears_behind = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    floppy = False
    if ears == "cat":  # pointed triangular ears on top, pink inside
        spread, height = rng.uniform(0.45, 0.7), r * rng.uniform(0.65, 0.95)
        tilt = rng.uniform(0.05, 0.3)
        for sx in (-1, 1):
            bx0, bx1 = c + sx * r * (spread - 0.35), c + sx * r * (spread + 0.3)
            by = c - ry * 0.6
            apex = (c + sx * r * (spread + tilt), c - ry * 0.6 - height)
            mdraw.polygon([(bx0, by + r * 0.2), (bx1, by + r * 0.2), apex], fill=255)
            inner = [(bx0 + sx * r * 0.12, by), (bx1 - sx * r * 0.1, by),
                     (apex[0] - sx * r * 0.04, apex[1] + height * 0.3)]
            draw.polygon(inner, fill=_jitter(rng, (226, 150, 156), 20))
        mdraw.ellipse([c - rx, c - ry, c + rx, c + ry], fill=255)
    else:  # floppy or rounded ears
        edraw = ImageDraw.Draw(ears_behind)
        ear_colour = _jitter(rng, ear_colour, 25)
        floppy = rng.random() < 0.65
        if floppy:  # long lobes hanging over the sides of the face (drawn over the fur, below)
            length, width = r * rng.uniform(0.9, 1.3), r * rng.uniform(0.38, 0.52)
            floppy_ears = []
            for sx in (-1, 1):
                top = (c + sx * rx * rng.uniform(0.7, 0.9), c - ry * rng.uniform(0.6, 0.85))
                angle = sx * rng.uniform(0.2, 0.6)  # swing outwards from vertical
                centre = (top[0] + length / 2 * math.sin(angle), top[1] + length / 2 * math.cos(angle))
                floppy_ears.append(_ellipse_points(centre, width / 2, length / 2, angle))
        else:  # rounded ears on top
            er = r * rng.uniform(0.28, 0.4)
            for sx in (-1, 1):
                ex, ey = c + sx * rx * rng.uniform(0.55, 0.8), c - ry * rng.uniform(0.7, 0.9)
                edraw.ellipse([ex - er, ey - er, ex + er, ey + er], fill=ear_colour)
                draw.ellipse([ex - er * 0.55, ey - er * 0.55, ex + er * 0.55, ey + er * 0.55],
                             fill=_jitter(rng, second, 25))
        mdraw.ellipse([c - rx, c - ry, c + rx, c + ry], fill=255)
    if face == "dog":  # a long muzzle
        mw, mh = r * rng.uniform(0.42, 0.55), r * rng.uniform(0.45, 0.6)
        my = c + r * rng.uniform(0.35, 0.45)
        mdraw.ellipse([c - mw, my - mh, c + mw, my + mh], fill=255)
    fur_img = _fur(rng, size, base, second)
    head = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    head.paste(fur_img, (0, 0), mask)
    if face == "dog" and rng.random() < 0.5:  # a lighter or darker muzzle patch
        hdraw = ImageDraw.Draw(head)
        hdraw.ellipse([c - mw * 0.9, my - mh * 0.9, c + mw * 0.9, my + mh * 0.9],
                      fill=_jitter(rng, second, 25) + (255,))
    head = Image.alpha_composite(ears_behind, head)
    head = Image.alpha_composite(head, layer)  # inner ears / ear centres drawn on layer
    fdraw = ImageDraw.Draw(head)
    if floppy:
        for pts in floppy_ears:
            fdraw.polygon(pts, fill=ear_colour, outline=_jitter(rng, (40, 30, 25), 15))
    (_cat_features if face == "cat" else _dog_features)(rng, fdraw, c, r, base)
    return head


def _lighting(rng, arr):
    """Brightness, colour cast and a directional light ramp, applied to a float image."""
    h, w, _ = arr.shape
    gain = rng.uniform(0.6, 1.3) * rng.uniform(0.85, 1.15, 3)
    angle = rng.uniform(0, 2 * math.pi)
    xx = (np.arange(w, dtype=np.float32) / w - 0.5) * math.cos(angle)
    yy = (np.arange(h, dtype=np.float32) / h - 0.5) * math.sin(angle)
    ramp = 1.0 + np.float32(rng.uniform(0, 0.5)) * (yy[:, None] + xx[None, :])
    arr *= ramp[..., None]
    arr *= gain.astype(np.float32)
    return arr


def draw_image(cls, rng, cue_swap=CUE_SWAP):
    """One synthetic photo of a 'cat' or 'dog' as a PIL RGB image (size 200-500 px, any aspect)."""
    ears, face = cue_classes(rng, cls, cue_swap)
    width, height = (int(v) for v in rng.integers(200, 501, 2))
    img = _background(rng, width, height)
    short = min(width, height)
    r = short * rng.uniform(0.2, 0.38)
    head = _head(rng, ears, face, r)
    head = head.rotate(rng.uniform(-35, 35), resample=Image.BILINEAR, expand=False)
    if rng.random() < 0.25:  # partial crop: part of the head leaves the frame
        cx = rng.choice([-1, 1]) * rng.uniform(0.3, 0.6) * r + rng.uniform(r, width - r)
        cy = rng.uniform(-0.3, 0.6) * r + rng.uniform(r, height - r)
        cx, cy = np.clip(cx, 0, width), np.clip(cy, 0, height)
    else:
        cx, cy = rng.uniform(r * 1.1, width - r * 1.1), rng.uniform(r * 1.4, height - r * 1.1)
    box = (int(cx - head.width / 2), int(cy - head.height / 2))
    img.paste(head, box, head)
    if rng.random() < 0.5:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.8)))
    arr = _lighting(rng, np.array(img, dtype=np.float32))
    arr += rng.standard_normal(arr.shape, dtype=np.float32) * np.float32(rng.uniform(0, 10))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _write_one(task):
    """Draw and save one image; a worker's job (task = dest, cls, index, seed, cue_swap)."""
    folder, cls, index, seed, cue_swap = task
    rng = image_seed(seed, cls, index)
    img = draw_image(cls, rng, cue_swap)
    img.save(Path(folder) / f"{cls}.{index}.jpg", "JPEG", quality=int(rng.integers(55, 96)))
    return cls


def _quiet_worker():
    """Pool workers ignore Ctrl-C: the parent stops them, so no worker prints a traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def generate(dest, per_class, seed=SEED, workers=None, start=0, progress=True, cue_swap=CUE_SWAP):
    """Write per_class cats and dogs into dest/train/cat.N.jpg, dog.N.jpg (N from start); return dest."""
    from tqdm.auto import tqdm

    if per_class < 0:
        raise ValueError(f"per_class must be >= 0, got {per_class}")
    dest = Path(dest)
    folder = dest / "train"
    folder.mkdir(parents=True, exist_ok=True)
    tasks = [(str(folder), cls, i, seed, cue_swap) for i in range(start, start + per_class) for cls in KAGGLE_CLASSES]
    workers = workers or os.cpu_count() or 1
    with tqdm(total=len(tasks), desc="drawing cats and dogs", unit="img", disable=not progress) as bar:
        if workers == 1 or len(tasks) < 16:
            for task in tasks:
                _write_one(task)
                bar.update()
        else:
            # spawn, not fork: a notebook kernel has TensorFlow's threads running, and forking those can hang.
            with multiprocessing.get_context("spawn").Pool(workers, initializer=_quiet_worker) as pool:
                for _ in pool.imap_unordered(_write_one, tasks, chunksize=8):
                    bar.update()
    return dest
