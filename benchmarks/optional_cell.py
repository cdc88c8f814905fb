"""The optional "CPU speed-ups (not in the book)" cell, measured: notebook 04's and 06's fit with and without it.

Each fit is the book's call, as the notebook's listing makes it (listing 5.8: `fit(train_generator,
steps_per_epoch=100, validation_data=validation_generator, validation_steps=50)`, batches of 20; listing 5.14:
`fit(endless(train_generator), steps_per_epoch=100, ..., validation_steps=50)`, batches of 32, augmented). The
"cell" side runs it after the optional cell rebinds the generators: notebook 04 both to `speed.steady_feed`;
notebook 06 `train_generator` to `speed.with_pillow_transforms` (the listing's `endless()` still reads it) and
`validation_generator` to `speed.steady_feed`. Every fit starts from fresh generators and a freshly seeded model:
one warm-up epoch (tracing), then the timed epochs. Each round runs both notebooks and both sides, the side that
goes first alternating from round to round; a round's ratio is the book side's time over the cell side's
(above 1: the cell saves time), for the whole epochs and for their training part.
"""
import contextlib
import sys

from benchmarks.common import median
from helpers import config, measure, models, speed, training

NOTEBOOKS = ("04", "06")
SIDES = ("book", "cell")
THRESHOLD = 1.05  # the gain that keeps a speed-up: 5% of the fit's time in every paired round


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


def one_fit(notebook, side, split_root, profile, timed_epochs):
    """Seconds of each epoch of one fit (warm-up first) and of its training part: {'epochs_s', 'train_s'}.

    Validation reads one pass of the validation split, as the notebooks' `validation_steps` (the book's 50 batches
    of 20 in notebook 04; 50 batches of 32 would be more than one pass of 1,000 pictures, which Keras stops at).
    """
    import keras

    train, validation, _, steps = generators(notebook, split_root, profile)
    data, val_data = fit_data(notebook, side, train, validation)
    keras.utils.set_random_seed(config.SEED)
    model = models.compile_model(models.build_dropout_model() if notebook == "06" else models.build_baseline())
    timer = measure.epoch_timer()
    with contextlib.redirect_stdout(sys.stderr):
        model.fit(data, steps_per_epoch=steps, epochs=1 + timed_epochs, validation_data=val_data,
                  validation_steps=len(validation), verbose=0, callbacks=[timer])
    return {"epochs_s": [round(t, 2) for t in timer.seconds], "train_s": [round(t, 2) for t, _ in timer.parts]}


def paired(rounds, key):
    """Per round, the book side's timed seconds over the cell side's (sum of the timed epochs, or their training
    part): above 1 the cell saves time."""
    def timed(fit):
        return sum(fit[key][1:])
    return [round(timed(r["book"]) / timed(r["cell"]), 4) for r in rounds]


def summary(rounds):
    """The figures results.json keeps for one notebook: every paired ratio, their minimum and median, the verdict."""
    ratios, training_part = paired(rounds, "epochs_s"), paired(rounds, "train_s")
    seconds = {side: median(sum(r[side]["epochs_s"][1:]) / (len(r[side]["epochs_s"]) - 1) for r in rounds)
               for side in SIDES}
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


def measure_cell(split_root, profile, rounds, timed_epochs, log, notebooks=NOTEBOOKS):
    """Alternating rounds of both notebooks' fits with and without the optional cell: {notebook: summary}."""
    found = {nb: [] for nb in notebooks}
    for r in range(rounds):
        order = SIDES if r % 2 == 0 else SIDES[::-1]
        for notebook in notebooks:
            fits = {}
            for side in order:
                log(f"  round {r + 1}/{rounds}: notebook {notebook}, {side} ({profile} profile, "
                    f"1 + {timed_epochs} epochs)")
                fits[side] = one_fit(notebook, side, split_root, profile, timed_epochs)
                log(f"    epochs {fits[side]['epochs_s']} s")
            found[notebook].append({"first": order[0], **fits})
    return {nb: summary(rows) for nb, rows in found.items()}
