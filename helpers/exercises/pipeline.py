"""Exercises for notebook 08 (the Keras 3 pipeline): augmentation layers, the tf.data order, early stopping."""
import math
from functools import cache

import numpy as np

from .answers import as_int_tuple, as_sequence
from .core import ANGLE_TOLERANCE, Unreadable, exercise, first_match, right, wrong
from .messages import messages, num

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


messages({
    "08.model": "that is a {kind} model; give the one layer, layers.{wanted}(...)",
    "08.kind": "{kind} is not a Keras layer: write layers.{wanted}(...), the layer itself",
    "08.1.other_layer": "{kind} does not rotate: rotations are layers.RandomRotation.",
    "08.1.double": "that turns by up to 60 degrees: a full turn is 360 degrees, so 30 degrees is 30 / 360.",
    "08.1.radians": "the factor is a fraction of a full turn, not radians: 30 degrees is 30 / 360.",
    "08.1.percent": "30 % of a full turn is 108 degrees; 30 degrees is 30 / 360 of a turn.",
    "08.1.asymmetric": "the range ({low}, {high}) turns by {low_degrees}° to {high_degrees}°, not the same either "
                       "way: rotation_range=30 turns by up to 30 degrees either way, so give one number, 30 / 360.",
    "08.1.angle": "this layer turns by up to {degrees} degrees either way; rotation_range=30 means 30 degrees "
                  "(give or take {tolerance}°), a factor of 30 / 360.",
    "08.1.fill": "the angle is right, but fill_mode='{mode}' fills the corners differently from ImageDataGenerator's "
                 "default: pass fill_mode='nearest' (the layer's default is 'reflect').",
    "08.1.right": "RandomRotation({factor}, fill_mode='nearest') turns by up to {degrees} degrees either way (a factor "
                  "of 1/12 of a full turn is 30 degrees), and 'nearest' repeats the edge pixels as ImageDataGenerator "
                  "does by default.",
    "08.2.other_layer": "{kind} does not flip: flips are layers.RandomFlip.",
    "08.2.right": "RandomFlip('horizontal') mirrors half of the pictures left-right, like horizontal_flip=True.",
    "08.2.both": "RandomFlip() flips both ways by default: half of the cats would stand on their heads. Pass "
                 "'horizontal'.",
    "08.2.vertical": "'vertical' turns pictures upside down; horizontal_flip mirrors left-right: 'horizontal'.",
})


def layer_type(answer, wanted):
    """True if the answer is a Keras layer of class `wanted`, False for another layer; Unreadable otherwise."""
    import keras
    if isinstance(answer, keras.Model):
        raise Unreadable("08.model", kind=type(answer).__name__, wanted=wanted)
    if not isinstance(answer, keras.layers.Layer):
        raise Unreadable("08.kind", kind=type(answer).__name__, wanted=wanted)
    return type(answer).__name__ == wanted


def check_rotation(answer):
    """08.1: RandomRotation for rotation_range=30 with ImageDataGenerator's fill, from the layer's own config."""
    if not layer_type(answer, "RandomRotation"):
        return wrong("08.1.other_layer", kind=type(answer).__name__)
    low, high = answer.get_config()["factor"]
    turns = max(abs(low), abs(high))
    tolerance = ANGLE_TOLERANCE / 360  # in turns: the same tolerance as 05.3's
    if not math.isclose(low, -high, abs_tol=tolerance):
        return wrong("08.1.asymmetric", low=num(low), high=num(high), low_degrees=num(round(low * 360, 2)),
                     high_degrees=num(round(high * 360, 2)))
    if abs(turns * 360 - 30) > ANGLE_TOLERANCE:
        found = first_match(turns, [(30 / 180, "08.1.double"), (math.radians(30), "08.1.radians"),
                                    (0.3, "08.1.percent")], tol=1e-3)
        return wrong(found or "08.1.angle", degrees=num(round(turns * 360, 2)), tolerance=num(ANGLE_TOLERANCE))
    if answer.fill_mode != "nearest":
        return wrong("08.1.fill", mode=answer.fill_mode)
    return right("08.1.right", factor=num(round(turns, 4)), degrees=num(round(turns * 360, 2)))


def check_flip(answer):
    """08.2: RandomFlip for horizontal_flip=True."""
    if not layer_type(answer, "RandomFlip"):
        return wrong("08.2.other_layer", kind=type(answer).__name__)
    mode = answer.mode
    if mode == "horizontal":
        return right("08.2.right")
    return wrong("08.2.vertical" if mode == "vertical" else "08.2.both")


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


messages({
    "what.08.order": 'a list of the four step names, e.g. ["batch", "cache", "shuffle", "prefetch"]',
    "08.3.form": 'give a list of the four step names, e.g. ["batch", "cache", "shuffle", "prefetch"]',
    "08.3.names": "use each of {steps} once; got {answer}",
    "08.3.replayed": "both epochs come out in the same order: shuffle runs before cache, so the cache stores the "
                     "first epoch's order and replays it. Put cache first, shuffle after it.",
    "08.3.neighbours": "the batches are runs of neighbours ({batch}, ...): batch runs before shuffle, which then only "
                       "reorders whole batches; the same pictures always travel together. Shuffle, then batch.",
    "08.3.prefetch": "prefetch goes last: it prepares the next batch while the model trains on the current one; a "
                     "step after it runs in the training loop's time again.",
    "08.3.right": "{order}. Run on the numbers 0-11 for two epochs, each batch mixes numbers from all over, each epoch "
                  "comes in a new order, and whatever comes before the cache (decoding the pictures) runs only once.",
})


def read_order(answer):
    """The four step names in the learner's order (a list, a tuple or an array of names)."""
    try:
        items = as_sequence(answer, "what.08.order")
    except Unreadable:
        raise Unreadable("08.3.form") from None
    names = [str(a).strip().strip("().").lower() for a in items]
    if sorted(names) != sorted(STEPS):
        raise Unreadable("08.3.names", steps=", ".join(STEPS), answer=repr(answer))
    return names


def check_order(answer):
    """08.3: the pipeline order, judged by running it on tf.data.Dataset.range(12) for two epochs."""
    order = read_order(answer)
    first, second = run_pipeline(order)
    blocks = all(b == list(range(b[0], b[0] + len(b))) for b in first)
    if first == second:
        return wrong("08.3.replayed")
    if blocks:
        return wrong("08.3.neighbours", batch=first[0])
    if order[-1] != "prefetch":
        return wrong("08.3.prefetch")
    return right("08.3.right", order=" → ".join(order))


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


messages({
    "what.08.pair": "a pair (last epoch run, epoch whose weights the model ends with)",
    "08.4.right": "({stopped}, {best}): the loss is lowest at epoch {best}; epochs {after}-{stopped} bring no new low, "
                  "so after {patience} of them training stops, and restore_best_weights puts epoch {best}'s weights "
                  "back (the checkpoint file holds the same epoch).",
    "08.4.last": "the model does not keep the last epoch's weights: restore_best_weights=True puts back those of the "
                 "best epoch.",
    "08.4.from0": "count epochs from 1, as Keras' progress bar does.",
    "08.4.all": "training stops early: it does not run all 12 epochs.",
    "08.4.no_wait": "EarlyStopping waits {patience} epochs without a new low before stopping.",
    "08.4.one_short": "it stops after {patience} epochs without improvement, counting from the epoch after the best "
                      "one.",
    "08.4.one_long": "it stops after {patience} epochs without a new low, not {more}.",
    "08.4.first_low": "the bump at epoch 5 is not the end: epoch 6 reaches a new low (0.53, below epoch 4's 0.55), "
                      "and the wait starts again from there.",
    "08.4.other": "({first}, {second}): find the lowest validation loss first, then count {patience} epochs without "
                  "a new low after it.",
})


def check_stopping(answer):
    """08.4: where EarlyStopping stops and which epoch's weights it restores, from Keras itself."""
    got = as_int_tuple(answer, 2, "what.08.pair")
    truth = early_stopping()
    stopped, best = truth
    fields = {"stopped": stopped, "best": best, "after": best + 1, "patience": PATIENCE, "more": PATIENCE + 1,
              "first": got[0], "second": got[1]}
    if got == truth:
        return right("08.4.right", **fields)
    found = first_match(got, [
        ((stopped, stopped), "08.4.last"),
        ((stopped - 1, best - 1), "08.4.from0"),
        ((len(VAL_LOSS), best), "08.4.all"),
        ((best, best), "08.4.no_wait"),
        ((best + PATIENCE - 1, best), "08.4.one_short"),
        ((best + PATIENCE + 1, best), "08.4.one_long"),
        ((4 + PATIENCE, 4), "08.4.first_low"),
    ])
    return wrong(found or "08.4.other", **fields)


exercise(
    id="08.1", title="rotation_range as a layer", kind="a Keras layer",
    prompt="""### Exercise 08.1: `rotation_range` as a layer

Write the preprocessing layer that does what `ImageDataGenerator(rotation_range=30)` does: random rotations by up
to 30 degrees either way (within 0.2 degrees, as in exercise 05.3), filling the uncovered corners the way
`ImageDataGenerator` does by default.""",
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
