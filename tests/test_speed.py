"""FLOPs from layer shapes and fit-time estimates (no timing is asserted); decode-once: test_keras_internals.py."""
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


def fit_losses(tiny_split, cached, announce):
    """Losses of two seeded epochs of the baseline on the tiny split."""
    keras.utils.set_random_seed(3)
    model = models.compile_model(models.build_dropout_model())
    train, validation = training.make_generators(batch_size=4, augment=True)
    if cached:
        speed.decode_once(train), speed.decode_once(validation)
    if announce:
        speed.announce_fit_time(model, train, 2, validation=validation, profile="full")
    history = model.fit(train, epochs=2, validation_data=validation, verbose=0)
    return history.history


def test_speedups_and_estimate_leave_training_unchanged(tiny_split, capsys):
    reference = fit_losses(tiny_split, cached=False, announce=False)
    fast = fit_losses(tiny_split, cached=True, announce=True)
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
