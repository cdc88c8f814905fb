"""The notebooks' fits end to end: notebook 04's and 06's `fit` as the book calls it, after the optional cell, and
(where the training step says it could pay) in mixed precision.

Each fit is the book's call, as the notebook's listing makes it (listing 5.8: `fit(train_generator,
steps_per_epoch=100, validation_data=validation_generator, validation_steps=50)`, batches of 20; listing 5.14:
`fit(endless(train_generator), steps_per_epoch=100, ..., validation_steps=50)`, batches of 32, augmented). The
"cell" side runs it after the optional "CPU speed-ups (not in the book)" cell rebinds the generators: notebook 04
both to `speed.steady_feed`; notebook 06 `train_generator` to `speed.with_pillow_transforms` (the listing's
`endless()` still reads it) and `validation_generator` to `speed.steady_feed`. The "bfloat16" side is the book's
call with the model built under `mixed_bfloat16` (benchmarks/precision.py). Every fit starts from fresh generators
and a freshly seeded model: one warm-up epoch (tracing), then the timed epochs. An epoch is a window of the book's:
`window` of its training steps and of its validation steps (1: whole epochs, `--long`), so that a default bench fits
in minutes. Each round runs both notebooks and every side, the side that goes first rotating from round to round; a
round's ratio is the book side's time over the other side's (above 1: faster than the book's call), for the whole
epochs and for their training part.
"""
import contextlib
import sys

from benchmarks import precision
from benchmarks.common import median
from helpers import config, measure, models, speed, training

NOTEBOOKS = ("04", "06")
SIDES = ("book", "cell")
BFLOAT16 = "bfloat16"
THRESHOLD = 1.05  # the gain that keeps a speed-up: 5% of the fit's time in every paired round
WINDOW = 0.2  # the default bench's epochs: a fifth of the book's training and validation steps


def generators(notebook, split_root, profile):
    """The listing's generators (fresh), their batch size and steps per epoch, as the notebook's profile sets them."""
    p = config.get_profile(profile)
    augment = notebook == "06"
    batch = p.augmented_batch if augment else p.baseline_batch
    with contextlib.redirect_stdout(sys.stderr):
        train, validation = training.make_generators(batch, augment=augment, directory=split_root)
    steps = (p.augmented_steps or len(train)) if augment else len(train)
    return train, validation, batch, steps


def fit_data(notebook, side, train, validation):
    """(training data, validation data) as fit receives them: the book's, or after the optional cell."""
    if side == "cell":
        train = speed.steady_feed(train) if notebook == "04" else speed.with_pillow_transforms(train)
        validation = speed.steady_feed(validation)
    return (training.endless(train) if notebook == "06" else train), validation


def window_steps(steps, window):
    """A window's share of a number of steps: at least one."""
    return max(1, round(steps * window))


def one_fit(notebook, side, split_root, profile, timed_epochs, window=1.0):
    """Seconds of each epoch of one fit (warm-up first) and of its training part: {'epochs_s', 'train_s'}.

    Validation reads one pass of the validation split (times `window`), as the notebooks' `validation_steps` (the
    book's 50 batches of 20 in notebook 04; 50 batches of 32 would be more than one pass of 1,000 pictures, which
    Keras stops at).
    """
    import keras

    train, validation, _, steps = generators(notebook, split_root, profile)
    data, val_data = fit_data(notebook, side, train, validation)
    if side == BFLOAT16:
        model, _ = precision.build(notebook, "mixed_bfloat16")
    else:
        keras.utils.set_random_seed(config.SEED)
        model = models.compile_model(models.build_dropout_model() if notebook == "06" else models.build_baseline())
    timer = measure.epoch_timer()
    with contextlib.redirect_stdout(sys.stderr):
        model.fit(data, steps_per_epoch=window_steps(steps, window), epochs=1 + timed_epochs,
                  validation_data=val_data, validation_steps=window_steps(len(validation), window), verbose=0,
                  callbacks=[timer])
    return {"epochs_s": [round(t, 2) for t in timer.seconds], "train_s": [round(t, 2) for t, _ in timer.parts]}


def paired(rounds, key, other="cell"):
    """Per round, the book side's timed seconds over the other side's (sum of the timed epochs, or their training
    part): above 1 the other side saves time."""
    def timed(fit):
        return sum(fit[key][1:])
    return [round(timed(r["book"]) / timed(r[other]), 4) for r in rounds]


def summary(rounds, other="cell"):
    """The figures results.json keeps for one notebook and one side against the book's call: every paired ratio,
    their minimum and median, the verdict."""
    ratios, training_part = paired(rounds, "epochs_s", other), paired(rounds, "train_s", other)
    seconds = {side: median(sum(r[side]["epochs_s"][1:]) / (len(r[side]["epochs_s"]) - 1) for r in rounds)
               for side in ("book", other)}
    return {"ratios": ratios, "min": min(ratios), "median": median(ratios),
            "training_part_ratios": training_part, "training_part_median": median(training_part),
            "epoch_s": {side: round(s, 2) for side, s in seconds.items()},
            "kept": verdict(ratios), "rounds": rounds}


def verdict(ratios):
    """What the paired ratios support, against THRESHOLD."""
    if min(ratios) >= THRESHOLD:
        return f"gain of at least {THRESHOLD - 1:.0%} in every round"
    if median(ratios) >= THRESHOLD:
        return f"gain of {THRESHOLD - 1:.0%} or more in the median, not in every round"
    if max(ratios) < 1:
        return "slower in every round"
    if median(ratios) <= 1 / THRESHOLD:
        return "no gain: slower in the median"
    return f"below {THRESHOLD - 1:.0%}"


def rotated(sides, r):
    """The sides in round r's order: each goes first in turn."""
    k = r % len(sides)
    return sides[k:] + sides[:k]


def measure_fits(split_root, profile, rounds, timed_epochs, log, window=WINDOW, sides=SIDES, notebooks=NOTEBOOKS):
    """Rotating rounds of both notebooks' fits on every side: {side other than the book's: {notebook: summary}}."""
    found = {nb: [] for nb in notebooks}
    for r in range(rounds):
        order = rotated(tuple(sides), r)
        for notebook in notebooks:
            fits = {}
            for side in order:
                log(f"  round {r + 1}/{rounds}: notebook {notebook}, {side} ({profile} profile, "
                    f"1 + {timed_epochs} epochs of {window:g} of the book's)")
                fits[side] = one_fit(notebook, side, split_root, profile, timed_epochs, window)
                log(f"    epochs {fits[side]['epochs_s']} s")
            found[notebook].append({"first": order[0], **fits})
    return {other: {nb: summary(rows, other) for nb, rows in found.items()} for other in sides if other != "book"}
