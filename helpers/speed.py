"""Speed before and during long work: FLOPs, fit-time estimates from a short timed fit, decode-once, Pillow
transforms, steady feeding.

    training_flops_per_image(model)   # ~1.4e9 for the chapter's baseline (forward x 3)
    announce_fit_time(model, train, epochs, validation=validation)  # "about N minutes on this machine"
    decode_once(iterator)             # flow_from_directory that decodes and resizes each image once
    transform_with_pillow(iterator)   # ... that does its random rotation, shift, shear and zoom with Pillow (06)
    steady_feed(iterator)             # what fit(iterator) reads, without tf.data's autotuning (notebook 04)
    behind_training(generator)        # its batches made at low CPU priority in fit's background thread (06)
"""
import contextlib
import copy
import functools
import os
import random
import statistics
import sys
import threading

import numpy as np

from . import keras_internals, transforms
from .config import get_profile
from .measure import batch_timer, time_calls

# Training costs about three forward passes: the forward pass, the gradient with respect to the
# activations and the gradient with respect to the weights, each as many multiply-adds.
TRAINING_PASSES = 3
# The CPU priority (Linux nice value) of a background thread making batches for behind_training: training's own
# threads (0) come first, yet on a machine busy with other programs the batches still get about a tenth of a core.
BACKGROUND_NICE = 10
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


# ---------------------------------------------------------------- the timings an estimate is made of

def random_batch(model, batch_size, seed=0):
    """A batch of uniform [0, 1) images and 0/1 labels shaped for the model, from its own generator."""
    rng = np.random.default_rng(seed)
    shape = (batch_size,) + tuple(model.inputs[0].shape[1:])
    units = model.outputs[0].shape[-1]
    x = rng.random(shape, dtype=np.float32)
    y = rng.integers(0, 2, (batch_size, units)).astype("float32")
    return x, y


def batch_seconds(iterator, batches=2):
    """Seconds per batch of a flow_from_directory iterator: (first load, repeat load), on an independent copy.

    The copy has its own order and, for a decode_once iterator, its own empty cache, so the first load
    decodes and the repeat shows the cost once the pixels are cached; the iterator and the global random
    streams are untouched.
    """
    twin = keras_internals.independent_copy(iterator)
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


class TimingCopy:
    """Batches made for a timing alone (a second generator like the fit's own): the timing may use them up."""

    def __init__(self, batches):
        self.batches = batches


def repeating(data, batches):
    """The first `batches` batches of a copy of data, again and again: a fit's later epochs in miniature.

    data: a flow_from_directory iterator (copied, so its order and cache are untouched), a tf.data
    dataset (its first batches cached after the first pass, as a cached pipeline's later epochs are), or a
    TimingCopy of a generator made for the timing alone (read as it is: its batches are made while the fit runs).
    A fit's own generator is refused: timing it would use up batches the fit needs.
    """
    if hasattr(data, "filepaths"):
        twin = keras_internals.independent_copy(data)
        n = max(1, min(batches, len(twin)))

        def forever():
            while True:
                for i in range(n):
                    yield twin[i]
        return forever()
    if hasattr(data, "take") and hasattr(data, "cache"):
        return data.take(batches).cache().repeat()
    if isinstance(data, TimingCopy):
        return data.batches
    raise TypeError(f"cannot time {type(data).__name__}: pass a flow_from_directory iterator, a tf.data dataset "
                    "or speed.TimingCopy(a second generator made for the timing)")


# ---------------------------------------------------------------- estimates before long work

def _batches(data, steps):
    """Batches per epoch: steps if given, else len(data) for an iterator or dataset, else None."""
    if steps is not None:
        return int(steps)
    try:
        n = len(data)
    except TypeError:
        return None
    return None if n < 0 else n


# A timed fit: one warm-up epoch, then TIMED_EPOCHS short epochs whose median is kept (robust to a burst of load).
TIMING_STEPS, TIMING_VALIDATION_STEPS, TIMED_EPOCHS = 8, 4, 4


def timed_fit(model, train, validation=None, steps=TIMING_STEPS, validation_steps=TIMING_VALIDATION_STEPS,
              epochs=TIMED_EPOCHS):
    """Time a short fit of an untrained copy of model on copies of the data, as model.fit runs it.

    A warm-up epoch (tracing, first loads), then `epochs` epochs of `steps` training batches and
    `validation_steps` validation batches each. Returns the median seconds of a steady training step and
    validation batch, what each epoch costs on top (starting its passes), and what the first epoch cost on
    top of a later one. The model, data and random streams are untouched.
    """
    twin, timer = timing_clone(model), batch_timer()
    val_data = repeating(validation, validation_steps) if validation is not None and validation_steps else None
    with preserved_random_state():
        twin.fit(repeating(train, steps), steps_per_epoch=steps, epochs=1 + epochs, validation_data=val_data,
                 validation_steps=validation_steps if val_data is not None else None, shuffle=False,
                 verbose=0, callbacks=[timer])
    epoch_s = statistics.median(timer.seconds[1:])
    n_val = validation_steps if val_data is not None else 0
    # With one batch per pass there is no steady step to time: the whole epoch shares out instead.
    shared = [epoch_s / (steps + n_val)]
    step = statistics.median([t for epoch in timer.train[1:] for t in epoch] or shared)
    eval_step = statistics.median([t for epoch in timer.validation[1:] for t in epoch] or shared) if n_val else 0.0
    return {"train_step_s": step, "eval_step_s": eval_step,
            "epoch_overhead_s": max(0.0, epoch_s - steps * step - n_val * eval_step),
            "warmup_s": max(0.0, timer.seconds[0] - epoch_s)}


def estimate_fit_seconds(model, train, epochs, steps_per_epoch=None, validation=None, validation_steps=None,
                         timing_steps=TIMING_STEPS, timing_validation_steps=TIMING_VALIDATION_STEPS):
    """Seconds model.fit will take, from a short timed fit of an untrained copy (the model is untouched).

    The copy runs the same kind of data through fit (training steps and validation), so the estimate
    includes loading, augmentation and Keras' own overhead at the machine's load of the moment.
    Returns a dict: seconds per epoch (after the first) and in all, and the parts they are made of.
    """
    train_batches = _batches(train, steps_per_epoch)
    if train_batches is None:
        raise ValueError("estimate_fit_seconds needs steps_per_epoch for data without a length "
                         "(pass steps_per_epoch=...).")
    val_batches = (_batches(validation, validation_steps) or 0) if validation is not None else 0
    k, m = min(timing_steps, train_batches), min(timing_validation_steps, val_batches)
    parts = timed_fit(model, train, validation if m else None, k, m)
    per_epoch = (train_batches * parts["train_step_s"] + val_batches * parts["eval_step_s"]
                 + parts["epoch_overhead_s"])
    # The first epoch also traces and decodes every file once (decode_once); the timed fit did that for k + m batches.
    first_epoch_extra = parts["warmup_s"]
    for data, timed in ((train, k), (validation, m)):
        if data is not None and hasattr(data, "filepaths"):
            first, repeat = batch_seconds(data)
            first_epoch_extra += max(0, len(data) - timed) * max(0.0, first - repeat)
    total = per_epoch * epochs + first_epoch_extra
    return {"epoch_s": per_epoch, "total_s": total, "epochs": epochs, "train_batches": train_batches,
            "eval_batches": val_batches, "first_epoch_extra_s": first_epoch_extra, **parts}


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

def decode_once(iterator):
    """Make a flow_from_directory iterator decode and resize each file once per run, then reuse the pixels.

    Batches are bit-for-bit the same, in the same order (augmentation still draws new transforms
    every epoch); only the JPEG decoding and resizing are skipped after a file's first use.
    Costs about 67 KB of memory per 150x150 colour image. Changes only this iterator; returns it.
    """
    return keras_internals.decode_once(iterator)


def transform_with_pillow(iterator):
    """Make an ImageDataGenerator iterator do its random rotation, shift, shear and zoom with Pillow, not scipy.

    The same transforms Keras draws, in the same order, and the same pixels (helpers/transforms.py), in about half
    the CPU time. Changes only this iterator (it gets its own copy of the generator's settings, taken now: call it
    after any datagen.fit or change of settings); returns it.
    """
    datagen = getattr(iterator, "image_data_generator", False)
    if datagen is False:
        raise TypeError(f"transform_with_pillow needs an ImageDataGenerator iterator, not {type(iterator).__name__}.")
    if datagen is not None and not transforms_with_pillow(iterator):
        own = copy.copy(datagen)
        own.apply_transform = functools.partial(transforms.apply_transform, own)
        iterator.image_data_generator = own
    return iterator


def transforms_with_pillow(iterator):
    """True when transform_with_pillow was applied to this iterator."""
    datagen = getattr(iterator, "image_data_generator", None)
    method = getattr(datagen, "__dict__", {}).get("apply_transform")
    return isinstance(method, functools.partial) and method.func is transforms.apply_transform


def behind_training(batches):
    """The batches of a generator, each made at low CPU priority when a background thread asks for it.

    model.fit reads a generator from a background thread (tf.data's); that thread drops to nice BACKGROUND_NICE,
    so on a machine with few cores the training's own threads come first and the batches are made in the time
    they leave idle. The thread that asks first (where fit peeks at the first batches) and the main thread keep
    their priority; a lowered thread is never raised again, and tf.data's threads end with the fit's input
    pipeline (checked in /proc/self/task after a fit). The same batches in the same order; Linux only.
    """
    lowered = {threading.get_native_id()}  # first asked from the caller's thread (fit's peek): never lowered
    batches = iter(batches)
    while True:
        _lower_priority(lowered)
        try:
            batch = next(batches)
        except StopIteration:
            return
        yield batch


def _lower_priority(lowered):
    """Drop this thread to BACKGROUND_NICE once, unless it is the main thread or not on Linux."""
    if not sys.platform.startswith("linux") or threading.current_thread() is threading.main_thread():
        return
    thread_id = threading.get_native_id()
    if thread_id not in lowered:
        lowered.add(thread_id)
        with contextlib.suppress(OSError):
            if os.getpriority(os.PRIO_PROCESS, thread_id) < BACKGROUND_NICE:
                os.setpriority(os.PRIO_PROCESS, thread_id, BACKGROUND_NICE)


def steady_feed(iterator, shuffle=True):
    """What model.fit(iterator) reads from a flow_from_directory iterator, same batches in the same order, as a
    tf.data pipeline that prepares the next two batches during each step without autotuning (fit with shuffle=False).
    shuffle=False: the batches in order, as Keras reads validation data (validation_data=steady_feed(v, False)).

    Keras' own feeding autotunes its prefetching, and on a 2-core machine some epochs then took twice as long
    (benchmarks/README.md, "End to end"). Changes nothing in the iterator's batches.
    """
    if not isinstance(iterator, keras_internals.directory_iterator_class()):
        raise TypeError(f"steady_feed needs a flow_from_directory iterator, not {type(iterator).__name__}.")
    return keras_internals.steady_feed(iterator, shuffle=shuffle)


def decodes_once(iterator):
    """True when a flow_from_directory iterator decodes each file once (decode_once was applied)."""
    return keras_internals.decodes_once(iterator)


def cached_images(iterator):
    """How many decoded images a decode_once iterator holds, and their size in megabytes."""
    return keras_internals.cached_images(iterator)
