"""FLOPs from layer shapes and fit-time estimates (no timing is asserted); decode-once: test_keras_internals.py."""
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from helpers import models, speed, training


def small_model():
    """8x8x2 input, Conv2D 4 (3x3), pool, Dense 5, Dense 1: small enough to count by hand."""
    return keras.Sequential([
        keras.Input(shape=(8, 8, 2)),
        keras.layers.Conv2D(4, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(5, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])


def test_flops_of_a_small_model_by_hand():
    model = small_model()
    # Conv2D: 6x6 outputs x 4 filters x (3x3x2) weights each; Dense: 36x5 and 5x1.
    macs = 6 * 6 * 4 * (3 * 3 * 2) + 36 * 5 + 5 * 1
    assert [speed.layer_macs(layer) for layer in model.layers] == [864 * 3, 0, 0, 180, 5]
    assert speed.forward_flops_per_image(model) == 2 * macs == 5554
    assert speed.training_flops_per_image(model) == 3 * 5554


def test_baseline_flops_by_hand():
    # Listing 5.5's layer shapes: 148x148x32, 72x72x64, 34x34x128, 15x15x128, 6272->512->1.
    macs = (148 * 148 * 32 * 27 + 72 * 72 * 64 * 288 + 34 * 34 * 128 * 576
            + 15 * 15 * 128 * 1152 + 6272 * 512 + 512)
    assert macs == 236_095_488
    model = models.build_baseline()
    assert speed.forward_flops_per_image(model) == 2 * macs
    assert speed.training_flops_per_image(model) == pytest.approx(1.42e9, rel=0.01)
    # Dropout changes no multiply-add.
    assert speed.training_flops_per_image(models.build_dropout_model()) == 6 * macs


def fit_losses(tiny_split, cached, announce, pillow=False):
    """Losses of two seeded epochs of the dropout model with augmentation on the tiny split."""
    keras.utils.set_random_seed(3)
    model = models.compile_model(models.build_dropout_model())
    train = training.flow(training.augmenting_datagen(), "train", 4)  # Keras' own transforms unless pillow
    validation = training.flow(training.rescaling_datagen(), "validation", 4, shuffle=False)
    if cached:
        speed.decode_once(train), speed.decode_once(validation)
    if pillow:
        speed.transform_with_pillow(train)
    if announce:
        speed.announce_fit_time(model, train, 2, validation=validation, profile="full")
    history = model.fit(train, epochs=2, validation_data=validation, verbose=0)
    return history.history


def test_speedups_and_estimate_leave_training_unchanged(tiny_split, capsys):
    reference = fit_losses(tiny_split, cached=False, announce=False)
    fast = fit_losses(tiny_split, cached=True, announce=True, pillow=True)
    assert "minutes on this machine" in capsys.readouterr().out
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        np.testing.assert_allclose(fast[key], reference[key], rtol=1e-5, atol=1e-6)


def test_estimate_adds_up_its_parts(monkeypatch, tiny_split):
    timed = []
    monkeypatch.setattr(speed, "timed_fit", lambda model, train, validation, k, m: timed.append((k, m)) or
                        {"train_step_s": 0.5, "eval_step_s": 0.1, "epoch_overhead_s": 0.25, "warmup_s": 2.0})
    loads = {"train": (0.2, 0.1), "validation": (0.05, 0.02)}
    monkeypatch.setattr(speed, "batch_seconds", lambda it, *a: loads[Path(it.directory).name])
    model = models.compile_model(small_model())
    train, validation = training.make_generators(batch_size=5)  # 12 + 6 images: 3 and 2 batches per pass
    est = speed.estimate_fit_seconds(model, train, 3, steps_per_epoch=10, validation=validation,
                                     validation_steps=5, timing_steps=2, timing_validation_steps=1)
    assert timed == [(2, 1)]
    # Per epoch 10 x 0.5 + 5 x 0.1 + 0.25 = 5.75 s; the first epoch adds the timed fit's warm-up (2 s) and decodes
    # the batches it did not: (3 - 2) x (0.2 - 0.1) + (2 - 1) x (0.05 - 0.02) = 0.13 s.
    assert est["epoch_s"] == pytest.approx(5.75)
    assert est["total_s"] == pytest.approx(3 * 5.75 + 2.13)
    # Without steps the iterator's own length counts: ceil(12 / 5) = 3 batches; timing never exceeds it.
    timed.clear()
    assert speed.estimate_fit_seconds(model, train, 1)["train_batches"] == 3
    assert timed == [(3, 0)]


def test_timed_fit_leaves_model_data_and_random_streams_alone(tiny_split):
    model = models.compile_model(models.build_baseline())
    weights = [w.copy() for w in model.get_weights()]
    train, validation = (speed.decode_once(g) for g in training.make_generators(batch_size=4))
    state = np.random.get_state()[1].copy()
    parts = speed.timed_fit(model, train, validation, steps=2, validation_steps=1, epochs=2)
    assert parts["train_step_s"] > 0 and parts["eval_step_s"] > 0 and parts["warmup_s"] >= 0
    assert parts["epoch_overhead_s"] >= 0
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    assert speed.cached_images(train)[0] == 0 and speed.cached_images(validation)[0] == 0


def test_timed_fit_times_tf_data_pipelines(tiny_split):
    import tensorflow as tf

    model = models.compile_model(models.build_baseline())
    x = np.zeros((8, 150, 150, 3), "float32")
    ds = tf.data.Dataset.from_tensor_slices((x, np.zeros((8, 1), "float32"))).batch(4)
    parts = speed.timed_fit(model, ds.repeat(), ds, steps=3, validation_steps=2, epochs=1)
    assert parts["train_step_s"] > 0 and parts["eval_step_s"] > 0
    assert speed.estimate_fit_seconds(model, ds, 2, validation=ds, timing_steps=1)["train_batches"] == 2
    with pytest.raises(ValueError, match="steps_per_epoch"):
        speed.estimate_fit_seconds(model, ds.repeat(), 2)


def test_timing_reads_a_generator_only_when_it_was_made_for_the_timing():
    model = models.compile_model(small_model())
    batches = [(np.zeros((2, 8, 8, 2), "float32"), np.zeros((2, 1), "float32"))] * 40

    def made():
        yield from batches
    with pytest.raises(TypeError, match="TimingCopy"):  # a fit's own generator would lose batches to the timing
        speed.estimate_fit_seconds(model, made(), 2, steps_per_epoch=3)
    copy = made()
    est = speed.estimate_fit_seconds(model, speed.TimingCopy(copy), 2, steps_per_epoch=3)
    assert est["train_batches"] == 3 and est["total_s"] > 0
    read = 40 - len(list(copy))  # the timing read its own copy: 3 steps in 5 epochs, plus what Keras reads ahead
    assert 3 * (1 + speed.TIMED_EPOCHS) <= read < 40


def test_behind_training_hands_out_the_same_batches_in_the_same_order():
    batches = [np.full((2, 3), i) for i in range(5)]
    out = list(speed.behind_training(iter(batches)))
    assert len(out) == 5 and all(a is b for a, b in zip(out, batches))


def thread_nice(work):
    """The nice value of a new thread after it ran work(), and the main thread's."""
    import os
    import threading

    seen = {}

    def run():
        try:
            work()
            seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        except Exception as error:  # noqa: BLE001 - handed back to the test's thread
            seen["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in seen:
        raise seen["error"]
    return seen["nice"], os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priorities are Linux's")
def test_behind_training_lowers_only_the_background_thread_that_makes_batches():
    import os

    main_before = os.getpriority(os.PRIO_PROCESS, 0)
    batches = speed.behind_training(iter(range(3)))
    assert next(batches) == 0  # read in the main thread (Keras peeks at the first batches there): unchanged
    background, main = thread_nice(lambda: next(batches))
    assert background == max(speed.BACKGROUND_NICE, main_before) and main == main_before
    plain, _ = thread_nice(lambda: None)
    assert plain == main_before  # the check can fail: a thread that made no batch keeps its priority

    later = speed.behind_training(iter(range(2)))
    next(later)  # the first batch from the main thread, as fit's peek

    def already_lower():
        os.setpriority(os.PRIO_PROCESS, 0, 19)  # 0: the calling thread on Linux
        next(later)
    assert thread_nice(already_lower)[0] == 19  # never raised
    first_here = speed.behind_training(iter(range(2)))
    assert thread_nice(lambda: (next(first_here), next(first_here)))[0] == main_before  # the peeking thread


def test_steady_validation_feed_gives_the_batches_in_order_every_pass(tiny_split):
    validation = training.flow(training.rescaling_datagen(), "validation", 4, shuffle=False)
    expected = [validation[i] for i in range(len(validation))]
    dataset = speed.steady_feed(validation, shuffle=False)
    for _ in range(2):  # fit reads it again every epoch
        passes = list(dataset.as_numpy_iterator())
        assert len(passes) == len(expected) == 2
        for (x, y), (x0, y0) in zip(passes, expected, strict=True):
            np.testing.assert_array_equal(x, x0)
            np.testing.assert_array_equal(y, y0)


def test_behind_training_and_steady_validation_leave_training_unchanged(tiny_split):
    """The same seeded fit through endless() with and without behind_training, and the same validation scores
    through Keras' own feeding and steady_feed(shuffle=False)."""
    results = []
    for fast in (False, True):
        keras.utils.set_random_seed(4)
        model = models.compile_model(models.build_dropout_model())
        train, validation = training.make_generators(batch_size=4, augment=True)
        data = training.endless(train)
        history = model.fit(speed.behind_training(data) if fast else data, steps_per_epoch=2, epochs=3,
                            shuffle=False, verbose=0).history
        scores = model.evaluate(speed.steady_feed(validation, shuffle=False) if fast else validation, verbose=0)
        results.append((history, scores))
    (slow_history, slow_scores), (fast_history, fast_scores) = results
    np.testing.assert_allclose(fast_history["loss"], slow_history["loss"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fast_scores, slow_scores, rtol=1e-5, atol=1e-6)
