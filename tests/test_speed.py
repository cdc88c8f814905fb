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
    monkeypatch.setattr(speed, "training_step_seconds", lambda *a, **k: 0.5)
    monkeypatch.setattr(speed, "inference_step_seconds", lambda *a, **k: 0.1)
    loads = {"train": (0.2, 0.1), "validation": (0.05, 0.02)}
    monkeypatch.setattr(speed, "batch_seconds", lambda it, *a: loads[Path(it.directory).name])
    model = models.compile_model(small_model())
    train, validation = training.make_generators(batch_size=5)
    est = speed.estimate_fit_seconds(model, train, 3, steps_per_epoch=10, validation=validation,
                                     validation_steps=5)
    # Per epoch 10 x (0.5 + 0.1) + 5 x (0.1 + 0.02) = 6.6 s; the first epoch decodes: 10 x 0.1 + 5 x 0.03.
    assert est["epoch_s"] == pytest.approx(6.6)
    assert est["total_s"] == pytest.approx(3 * 6.6 + 1.15)
    # Without steps the iterator's own length counts: ceil(12 / 5) = 3 batches.
    assert speed.estimate_fit_seconds(model, train, 1)["train_batches"] == 3


def test_estimate_needs_steps_for_endless_data():
    model = models.compile_model(small_model())
    with pytest.raises(ValueError, match="steps_per_epoch"):
        speed.estimate_fit_seconds(model, iter([]), 1)


@pytest.mark.parametrize("seconds, minutes", [(95, 2), (20, 1), (1790, 30), (4140, 70)])
def test_minutes_message(seconds, minutes):
    est = {"total_s": seconds, "epoch_s": seconds / 10, "epochs": 10}
    full = speed.minutes_message(est, profile="full")
    assert f"about {minutes} minutes on this machine" in full
    assert "COURSE_PROFILE=quick" in full
    assert "COURSE_PROFILE" not in speed.minutes_message(est, profile="quick")


def test_announce_is_silent_in_the_quick_profile(capsys):
    model = models.compile_model(small_model())
    assert speed.announce_fit_time(model, np.zeros((4, 8, 8, 2)), 30, steps_per_epoch=1) is None
    assert capsys.readouterr().out == ""
    est = speed.announce_fit_time(model, np.zeros((4, 8, 8, 2)), 30, steps_per_epoch=2, quick=True)
    assert est["train_batches"] == 2 and est["total_s"] > 0
    assert "about" in capsys.readouterr().out
