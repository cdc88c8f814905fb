"""Exercises for notebook 08 (the Keras 3 pipeline): augmentation layers, the tf.data order, early stopping."""
import math
from functools import cache

import numpy as np

from .core import Unreadable, as_int_tuple, exercise, first_match, right, wrong

NOTEBOOK = "08"
FILE = "08_modern_keras_pipeline.ipynb"
# What the exercises and their worked solutions use: the first cell of the notebook's exercises.
IMPORTS = """import numpy as np
from keras import layers

from helpers import exercises"""
INTRO = """## Exercises

Four exercises on the Keras 3 way: 데이터 증식 (data augmentation) as layers, the order of a `tf.data` pipeline,
and what `EarlyStopping` keeps. Replace each `...` with your answer and run the cell; `exercises.check` says
whether it is right and, if not, what your answer reveals. `exercises.hint("08.1")` gives a hint,
`exercises.solution("08.1")` the worked solution (all of them are in
`solutions/08_modern_keras_pipeline_solutions.ipynb`)."""


def layer_type(answer, wanted):
    """The answer if it is a Keras layer of class `wanted`; Unreadable or a wrong-layer message otherwise."""
    import keras
    if isinstance(answer, keras.Sequential):
        raise Unreadable(f"that is a Sequential model; give the one layer, layers.{wanted}(...)")
    if not isinstance(answer, keras.layers.Layer):
        raise Unreadable(f"{type(answer).__name__} is not a Keras layer: write layers.{wanted}(...), the layer itself")
    return type(answer).__name__ == wanted


def check_rotation(answer):
    """08.1: RandomRotation for rotation_range=30 with ImageDataGenerator's fill, from the layer's own config."""
    if not layer_type(answer, "RandomRotation"):
        return wrong(f"{type(answer).__name__} does not rotate: rotations are layers.RandomRotation.")
    low, high = answer.get_config()["factor"]
    turns = max(abs(low), abs(high))
    degrees = turns * 360
    if not (math.isclose(low, -high) and math.isclose(degrees, 30, abs_tol=0.01)):
        found = first_match(turns, [
            (30 / 180, "that turns by up to 60 degrees: a full turn is 360 degrees, so 30 degrees is 30 / 360."),
            (math.radians(30), "the factor is a fraction of a full turn, not radians: 30 degrees is 30 / 360."),
            (0.3, "30 % of a full turn is 108 degrees; 30 degrees is 30 / 360 of a turn."),
        ], tol=1e-3)
        if not math.isclose(low, -high):
            found = found or (f"the range ({low:g}, {high:g}) is not symmetric: rotation_range=30 turns either way, "
                              "so give one number, 30 / 360.")
        return wrong(found or f"this layer turns by up to {degrees:.1f} degrees; rotation_range=30 means 30.")
    if answer.fill_mode != "nearest":
        return wrong(f"the angle is right, but fill_mode='{answer.fill_mode}' (the layer's default is 'reflect') "
                     "fills the corners differently from ImageDataGenerator's default: pass fill_mode='nearest'.")
    return right("RandomRotation(30 / 360, fill_mode='nearest'): a factor of 1/12 of a full turn is 30 degrees either "
                 "way, and 'nearest' repeats the edge pixels as ImageDataGenerator does by default.")


def check_flip(answer):
    """08.2: RandomFlip for horizontal_flip=True."""
    if not layer_type(answer, "RandomFlip"):
        return wrong(f"{type(answer).__name__} does not flip: flips are layers.RandomFlip.")
    mode = answer.mode
    if mode == "horizontal":
        return right("RandomFlip('horizontal') mirrors half of the pictures left-right, like horizontal_flip=True.")
    return wrong({"horizontal_and_vertical": "RandomFlip() flips both ways by default: half of the cats would stand "
                                            "on their heads. Pass 'horizontal'.",
                  "vertical": "'vertical' turns pictures upside down; horizontal_flip mirrors left-right: "
                              "'horizontal'."}.get(mode, f"mode {mode!r}: use 'horizontal'."))


# ------------------------------------------------------------------------------- 08.3 the tf.data order

STEPS = ("cache", "shuffle", "batch", "prefetch")


def run_pipeline(order, n=12, batch=4):
    """Two epochs of tf.data.Dataset.range(n) through the steps in order: (epoch 1 batches, epoch 2 batches)."""
    import tensorflow as tf
    ds = tf.data.Dataset.range(n)
    make = {"cache": lambda d: d.cache(), "shuffle": lambda d: d.shuffle(n, seed=1),
            "batch": lambda d: d.batch(batch), "prefetch": lambda d: d.prefetch(1)}
    for step in order:
        ds = make[step](ds)

    def epoch():
        return [np.atleast_1d(b.numpy()).tolist() for b in ds]
    return epoch(), epoch()


def read_order(answer):
    """The four step names in the learner's order."""
    if isinstance(answer, str) or not isinstance(answer, (list, tuple)):
        raise Unreadable('give a list of the four step names, e.g. ["batch", "cache", "shuffle", "prefetch"]')
    names = [str(a).strip().strip("().").lower() for a in answer]
    if sorted(names) != sorted(STEPS):
        raise Unreadable(f"use each of {', '.join(STEPS)} once; got {answer!r}")
    return names


def check_order(answer):
    """08.3: the pipeline order, judged by running it on tf.data.Dataset.range(12) for two epochs."""
    order = read_order(answer)
    first, second = run_pipeline(order)
    blocks = all(b == list(range(b[0], b[0] + len(b))) for b in first)
    if first == second:
        return wrong("both epochs come out in the same order: shuffle runs before cache, so the cache stores the "
                     "first epoch's order and replays it. Put cache first, shuffle after it.")
    if blocks:
        return wrong(f"the batches are runs of neighbours ({first[0]}, ...): batch runs before shuffle, which then "
                     "only reorders whole batches; the same pictures always travel together. Shuffle, then batch.")
    if order[-1] != "prefetch":
        return wrong("prefetch goes last: it prepares the next batch while the model trains on the current one; a "
                     "step after it runs in the training loop's time again.")
    return right(f"{' → '.join(order)}. Run on the numbers 0-11 for two epochs, each batch mixes numbers from "
                 "all over, each epoch comes in a new order, and whatever comes before the cache (decoding the "
                 "pictures) runs only once.")


# ------------------------------------------------------------------------------- 08.4 early stopping

VAL_LOSS = (0.69, 0.62, 0.58, 0.55, 0.56, 0.53, 0.54, 0.55, 0.57, 0.56, 0.58, 0.60)
PATIENCE = 3


@cache
def early_stopping(val_loss=VAL_LOSS, patience=PATIENCE):
    """(last epoch run, epoch whose weights are kept), counted from 1, by Keras' own EarlyStopping callback."""
    import keras
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    stop.set_model(model)
    stop.on_train_begin()
    epoch = 0
    for epoch, loss in enumerate(val_loss):
        model.stop_training = False
        stop.on_epoch_end(epoch, {"val_loss": loss})
        if model.stop_training:
            break
    return epoch + 1, stop.best_epoch + 1


def check_stopping(answer):
    """08.4: where EarlyStopping stops and which epoch's weights it restores, from Keras itself."""
    got = as_int_tuple(answer, 2, "a pair (last epoch run, epoch whose weights the model ends with)")
    truth = early_stopping()
    stopped, best = truth
    if got == truth:
        return right(f"{truth}: the loss is lowest at epoch {best}; epochs {best + 1}-{stopped} bring no new low, so "
                     f"after {PATIENCE} of them training stops, and restore_best_weights puts epoch {best}'s weights "
                     "back (the checkpoint file holds the same epoch).")
    found = first_match(got, [
        ((stopped, stopped), ("the model does not keep the last epoch's weights: restore_best_weights=True puts back "
         "those of the best epoch.")),
        ((stopped - 1, best - 1), "count epochs from 1, as Keras' progress bar does."),
        ((len(VAL_LOSS), best), "training stops early: it does not run all 12 epochs."),
        ((best, best), f"EarlyStopping waits {PATIENCE} epochs without a new low before stopping."),
        ((best + PATIENCE - 1, best), (f"it stops after {PATIENCE} epochs without improvement, counting from the "
         "epoch after the best one.")),
        ((best + PATIENCE + 1, best), (f"it stops after {PATIENCE} epochs without a new low, not "
         f"{PATIENCE + 1}.")),
        ((4 + PATIENCE, 4), ("the bump at epoch 5 is not the end: epoch 6 reaches a new low (0.53, below epoch 4's "
         "0.55), and the wait starts again from there.")),
    ])
    return wrong(found or f"{got}: find the lowest validation loss first, then count {PATIENCE} epochs without a new "
                 "low after it.")


exercise(
    id="08.1", title="rotation_range as a layer", kind="a Keras layer",
    prompt="""### Exercise 08.1: `rotation_range` as a layer

Write the preprocessing layer that does what `ImageDataGenerator(rotation_range=30)` does: random rotations by up
to 30 degrees either way, filling the uncovered corners the way `ImageDataGenerator` does by default.""",
    starter="""answer = ...  # layers.RandomRotation(...) with your arguments""",
    hint="RandomRotation's factor is a fraction of a full turn; the layers' default fill_mode is not "
         "ImageDataGenerator's.",
    explanation="""`RandomRotation(factor)` turns by up to `factor` **full turns** (2π) either way, so 30 degrees is
`30 / 360`. Its default `fill_mode` is `"reflect"`; `ImageDataGenerator` fills with `"nearest"` by default, so pass
`fill_mode="nearest"` for the same corners.""",
    solution_code="""answer = layers.RandomRotation(30 / 360, fill_mode="nearest")""",
    checker=check_rotation)

exercise(
    id="08.2", title="horizontal_flip as a layer", kind="a Keras layer",
    prompt="""### Exercise 08.2: `horizontal_flip` as a layer

Write the preprocessing layer that does what `horizontal_flip=True` does in `ImageDataGenerator`.""",
    hint="Check RandomFlip's default mode: layers.RandomFlip().mode.",
    explanation="""`RandomFlip("horizontal")` mirrors half of the pictures left-right. Without an argument,
`RandomFlip()` flips both ways ("horizontal_and_vertical"): upside-down cats, which the test photos never show.""",
    solution_code="""answer = layers.RandomFlip("horizontal")""",
    checker=check_flip)

exercise(
    id="08.3", title="The order of a tf.data pipeline", kind="a list of names",
    prompt="""### Exercise 08.3: the order of a `tf.data` pipeline

The notebook's training data goes through `cache()`, `shuffle()`, `batch()` and `prefetch()`. In which order?
Answer with a list of the four names, e.g. `["batch", "cache", "shuffle", "prefetch"]`. The check runs your order
on the numbers 0-11 for two epochs.""",
    starter="""answer = ...  # a list of the four names, in order""",
    hint="What would a cache placed after shuffle store? What would shuffle mix if it came after batch?",
    explanation="""`cache()` first, so that the decoded pictures are kept after the first epoch; `shuffle()` after
it, so that every epoch draws a new order (a shuffle before the cache would be stored once and replayed);
`batch()` after the shuffle, so that batches mix different pictures (a shuffle after batching only reorders whole
batches); `prefetch()` last, so that the next batch is ready while the model trains on the current one.""",
    solution_code="""answer = ["cache", "shuffle", "batch", "prefetch"]""",
    checker=check_order)

exercise(
    id="08.4", title="What EarlyStopping keeps", kind="a pair of epochs",
    prompt=f"""### Exercise 08.4: what `EarlyStopping` keeps

A run with `EarlyStopping(monitor="val_loss", patience={PATIENCE}, restore_best_weights=True)` and `epochs=12` sees
these validation losses, epoch 1 first:

`{list(VAL_LOSS)}`

After which epoch does training stop, and which epoch's weights does the model have at the end? Count epochs from 1
and answer with the pair `(last epoch run, epoch of the weights)`. The check asks Keras' own callback.""",
    hint="Find the lowest loss; the callback stops once `patience` epochs in a row bring no new low after it.",
    explanation="""The loss reaches new lows up to epoch 4 (0.55), rises at epoch 5, and reaches a new low again at
epoch 6 (0.53), which resets the wait. Epochs 7, 8 and 9 bring no new low: after the third, training stops. With
`restore_best_weights=True` the model ends with epoch 6's weights; `ModelCheckpoint(save_best_only=True)` has saved
the same epoch.""",
    solution_code=f"""val_loss = {list(VAL_LOSS)}
best = int(np.argmin(val_loss)) + 1  # epochs count from 1
answer = (best + {PATIENCE}, best)""",
    checker=check_stopping)
