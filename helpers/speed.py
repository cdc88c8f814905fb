"""Speed on this machine: FLOPs from layer shapes, timings, fit-time estimates and decode-once loading.

    training_flops_per_image(model)   # ~1.4e9 for the chapter's baseline (forward x 3)
    matmul_gflops()                   # TensorFlow's own float32 matmul rate: the reference limit
    announce_fit_time(model, train, epochs, validation=validation)  # "about N minutes on this machine"
    decode_once(iterator)             # flow_from_directory that decodes and resizes each image once
"""
import contextlib
import copy
import random
import time

import numpy as np

from .config import get_profile

# Training costs about three forward passes: the forward pass, the gradient with respect to the
# activations and the gradient with respect to the weights, each as many multiply-adds.
TRAINING_PASSES = 3
QUICK_HINT = ("For a first look in a few minutes, use the quick profile: set COURSE_PROFILE=quick "
              "(or run `make lab PROFILE=quick`).")


# ---------------------------------------------------------------- FLOPs from the layer shapes

def layer_macs(layer):
    """Multiply-adds per image in one layer's forward pass: Conv2D and Dense; 0 for the others."""
    import keras

    if isinstance(layer, keras.layers.Conv2D):
        kernel_h, kernel_w, channels_in, channels_out = layer.kernel.shape
        out_h, out_w = layer.output.shape[1:3]
        return int(out_h * out_w * channels_out * kernel_h * kernel_w * channels_in)
    if isinstance(layer, keras.layers.Dense):
        units_in, units_out = layer.kernel.shape
        return int(units_in * units_out)
    return 0


def forward_flops_per_image(model):
    """FLOPs of one image's forward pass: 2 per multiply-add of every Conv2D and Dense layer."""
    return 2 * sum(layer_macs(layer) for layer in model.layers)


def training_flops_per_image(model):
    """FLOPs to train on one image: about three forward passes (forward, two backward products)."""
    return TRAINING_PASSES * forward_flops_per_image(model)


# ---------------------------------------------------------------- timings

def matmul_gflops(n=2048, repeats=8, rounds=3):
    """TensorFlow's float32 n x n matmul rate in GFLOP/s (best of a few rounds): the machine's limit."""
    import tensorflow as tf

    a = tf.random.stateless_normal((n, n), seed=(1, 2))
    b = tf.random.stateless_normal((n, n), seed=(3, 4))
    matmul = tf.function(tf.linalg.matmul)
    matmul(a, b).numpy()  # trace and warm up
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            c = matmul(a, b)
        c.numpy()
        best = max(best, 2 * n ** 3 * repeats / (time.perf_counter() - start) / 1e9)
    return best


def random_batch(model, batch_size, seed=0):
    """A batch of uniform [0, 1) images and 0/1 labels shaped for the model, from its own generator."""
    rng = np.random.default_rng(seed)
    shape = (batch_size,) + tuple(model.inputs[0].shape[1:])
    units = model.outputs[0].shape[-1]
    x = rng.random(shape, dtype=np.float32)
    y = rng.integers(0, 2, (batch_size, units)).astype("float32")
    return x, y


def time_calls(call, steps, warmup=1):
    """Median seconds per call of call(), after warmup calls (which trace and fill caches)."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(max(steps, 1)):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def training_step_seconds(model, batch_size=20, steps=5, warmup=2):
    """Seconds per train_on_batch step of a compiled model on one in-memory batch."""
    x, y = random_batch(model, batch_size)
    return time_calls(lambda: model.train_on_batch(x, y), steps, warmup)


def inference_step_seconds(model, batch_size=20, steps=5, warmup=2):
    """Seconds per predict_on_batch call of a model on one in-memory batch."""
    x, _ = random_batch(model, batch_size)
    return time_calls(lambda: model.predict_on_batch(x), steps, warmup)


def batch_seconds(iterator, batches=2):
    """Seconds per batch loaded from a flow_from_directory iterator: (first load, repeat load).

    Works on a copy, so the iterator's order and the global random streams are untouched; on a
    decode_once iterator the repeat shows the cost once the pixels are cached.
    """
    twin = copy.copy(iterator)
    n = max(1, min(batches, len(twin)))
    load = lambda: [twin[i] for i in range(n)]  # noqa: E731
    with preserved_random_state():
        first = time_calls(load, steps=1, warmup=0) / n
        repeat = time_calls(load, steps=1, warmup=0) / n
    if not decodes_once(iterator):
        first = repeat = (first + repeat) / 2
    return first, repeat


@contextlib.contextmanager
def preserved_random_state():
    """Run a block without moving Python's or NumPy's global random streams (so training stays identical)."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


def timing_clone(model):
    """An untrained copy of a compiled model with the same loss and optimizer settings (global RNG untouched)."""
    import keras

    with preserved_random_state():
        twin = keras.models.clone_model(model)
        optimizer = keras.optimizers.deserialize(keras.optimizers.serialize(model.optimizer))
        twin.compile(optimizer=optimizer, loss=model.loss, jit_compile=model.jit_compile)
    return twin


# ---------------------------------------------------------------- estimates before long work

def _batches(data, steps):
    """Batches per epoch: steps if given, else len(data) for an iterator, else None."""
    if steps is not None:
        return int(steps)
    try:
        return len(data)
    except TypeError:
        return None


def _batch_size(data, default):
    """The batch size of an iterator (its .batch_size), else default."""
    return int(getattr(data, "batch_size", None) or default)


def estimate_fit_seconds(model, train, epochs, steps_per_epoch=None, validation=None,
                         validation_steps=None, timing_steps=5):
    """Seconds model.fit will take, from a few timed steps on an untrained copy (the model is untouched).

    Returns a dict: seconds per epoch (after the first) and in all, and the parts they are made of.
    """
    train_batches = _batches(train, steps_per_epoch)
    if train_batches is None:
        raise ValueError("estimate_fit_seconds needs steps_per_epoch for data without a length "
                         "(pass steps_per_epoch=...).")
    twin = timing_clone(model)
    step = training_step_seconds(twin, _batch_size(train, 20), steps=timing_steps)
    first, repeat = batch_seconds(train) if hasattr(train, "filepaths") else (0.0, 0.0)
    parts = {"train_step_s": step, "train_load_s": repeat, "train_batches": train_batches}
    per_epoch = train_batches * (step + repeat)
    first_epoch_extra = train_batches * (first - repeat)
    if validation is not None:
        val_batches = _batches(validation, validation_steps) or 0
        infer = inference_step_seconds(twin, _batch_size(validation, 20), steps=timing_steps)
        val_first, val_repeat = (batch_seconds(validation) if hasattr(validation, "filepaths")
                                 else (0.0, 0.0))
        parts.update(eval_step_s=infer, eval_load_s=val_repeat, eval_batches=val_batches)
        per_epoch += val_batches * (infer + val_repeat)
        first_epoch_extra += val_batches * (val_first - val_repeat)
    total = per_epoch * epochs + max(first_epoch_extra, 0.0)
    return {"epoch_s": per_epoch, "total_s": total, "epochs": epochs, **parts}


def minutes_message(estimate, profile=None):
    """The sentence a learner reads before a long fit: about N minutes on this machine, plus the quick hint."""
    minutes = estimate["total_s"] / 60
    rounded = max(1, round(minutes)) if minutes < 10 else 5 * max(1, round(minutes / 5))
    name = get_profile(profile).name
    text = (f"This fit ({estimate['epochs']} epochs, {name} profile) takes about {rounded} minutes "
            f"on this machine ({estimate['epoch_s']:.0f} s per epoch).")
    if name != "quick":
        text += " " + QUICK_HINT
    return text


def announce_fit_time(model, train, epochs, steps_per_epoch=None, validation=None,
                      validation_steps=None, profile=None, quick=False):
    """Before a full-profile fit: time a few steps, print 'about N minutes on this machine'; return the estimate.

    In the quick profile it prints nothing and returns None, unless quick=True.
    """
    if get_profile(profile).name == "quick" and not quick:
        return None
    estimate = estimate_fit_seconds(model, train, epochs, steps_per_epoch, validation, validation_steps)
    print(minutes_message(estimate, profile))
    return estimate


# ---------------------------------------------------------------- decode and resize once per run

_ORIGINAL_BATCHES = None  # DirectoryIterator's own batch method, kept while the faster one is installed
_DECODE_ONCE_DEFAULT = False


def _load_pixels(iterator, j):
    """Image j as load_img + img_to_array give it, decoded and resized only the first time."""
    from keras.src.legacy.preprocessing import image as legacy_image

    pixels = iterator._decode_once_cache.get(j)
    if pixels is None:
        utils = legacy_image.image_utils
        img = utils.load_img(iterator.filepaths[j], color_mode=iterator.color_mode,
                             target_size=iterator.target_size, interpolation=iterator.interpolation,
                             keep_aspect_ratio=iterator.keep_aspect_ratio)
        x = utils.img_to_array(img, data_format=iterator.data_format)
        if hasattr(img, "close"):
            img.close()
        small = x.astype(np.uint8)
        pixels = small if np.array_equal(small, x) else x  # 8-bit images: 4x less memory
        iterator._decode_once_cache[j] = pixels
    return pixels.astype(iterator.dtype)


def _decode_once_batches(self, index_array):
    """DirectoryIterator's batch with cached pixels and the same random transforms, in the same order."""
    if getattr(self, "_decode_once_cache", None) is None:
        if not _DECODE_ONCE_DEFAULT:
            return _ORIGINAL_BATCHES(self, index_array)
        self._decode_once_cache = {}
    if self.save_to_dir or self.class_mode not in {"binary", "sparse", "categorical", "input", None}:
        return _ORIGINAL_BATCHES(self, index_array)
    batch_x = np.zeros((len(index_array),) + self.image_shape, dtype=self.dtype)
    for i, j in enumerate(index_array):
        x = _load_pixels(self, j)
        if self.image_data_generator:
            params = self.image_data_generator.get_random_transform(x.shape)
            x = self.image_data_generator.apply_transform(x, params)
            x = self.image_data_generator.standardize(x)
        batch_x[i] = x
    if self.class_mode == "input":
        return batch_x, batch_x.copy()
    if self.class_mode is None:
        return batch_x
    if self.class_mode == "categorical":
        batch_y = np.zeros((len(batch_x), len(self.class_indices)), dtype=self.dtype)
        batch_y[np.arange(len(batch_x)), self.classes[index_array]] = 1.0
    else:
        batch_y = self.classes[index_array].astype(self.dtype)
    return batch_x, batch_y


def _install_decode_once():
    """Give flow_from_directory's iterator class the decode-once batch method (idempotent)."""
    global _ORIGINAL_BATCHES
    from keras.src.legacy.preprocessing.image import DirectoryIterator

    if _ORIGINAL_BATCHES is None:
        _ORIGINAL_BATCHES = DirectoryIterator._get_batches_of_transformed_samples
        DirectoryIterator._get_batches_of_transformed_samples = _decode_once_batches
    return DirectoryIterator


def decode_once(iterator):
    """Make a flow_from_directory iterator decode and resize each file once per run, then reuse the pixels.

    Batches are bit-for-bit the same, in the same order (augmentation still draws new transforms
    every epoch); only the JPEG decoding and resizing are skipped after a file's first use.
    Costs about 67 KB of memory per 150x150 colour image. Returns the same iterator.
    """
    if not isinstance(iterator, _install_decode_once()):
        raise TypeError("decode_once needs a flow_from_directory iterator, "
                        f"not {type(iterator).__name__}.")
    if getattr(iterator, "_decode_once_cache", None) is None:
        iterator._decode_once_cache = {}
    return iterator


def decode_once_by_default(enabled=True):
    """Every flow_from_directory iterator decodes each file once from its next batch on (see decode_once)."""
    global _DECODE_ONCE_DEFAULT
    _install_decode_once()
    _DECODE_ONCE_DEFAULT = bool(enabled)
    return _DECODE_ONCE_DEFAULT


def decodes_once(iterator):
    """True when a flow_from_directory iterator decodes each file once (by itself or by default)."""
    if _ORIGINAL_BATCHES is None or not hasattr(iterator, "filepaths"):
        return False
    return _DECODE_ONCE_DEFAULT or getattr(iterator, "_decode_once_cache", None) is not None


def cached_images(iterator):
    """How many decoded images a decode_once iterator holds, and their size in megabytes."""
    cache = getattr(iterator, "_decode_once_cache", None) or {}
    return len(cache), sum(a.nbytes for a in cache.values()) / 1e6


def apply_defaults(environ=None):
    """The course's speed-ups that leave results unchanged: decode once (COURSE_DECODE_ONCE=0 turns it off)."""
    import os

    environ = os.environ if environ is None else environ
    enabled = environ.get("COURSE_DECODE_ONCE", "1").strip() != "0"
    return {"decode_once": decode_once_by_default(enabled)}
