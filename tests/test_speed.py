"""FLOPs from layer shapes; the optional speed-ups against Keras itself; the fit-time callback on a fake clock."""
import hashlib
import re
import time
import warnings

import keras
import numpy as np
import pytest

from helpers import models, speed, training

# Largest difference allowed between Pillow's and Keras' pixels on the 0-255 scale (float32 rounding).
TOLERANCE = 1e-3


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


# ---------------------------------------------------------------- steady_feed

def pictures_of(batches):
    """Each picture of some (images, labels) batches as a fingerprint of its pixels and label, in order."""
    return [hashlib.sha1(np.ascontiguousarray(x).tobytes() + bytes([int(y)])).hexdigest()
            for images, labels in batches for x, y in zip(images, labels, strict=True)]


def test_steady_feed_gives_every_picture_once_per_pass_in_a_new_order(tiny_split):
    plain = training.flow(training.rescaling_datagen(), "train", 5)  # 12 pictures: batches of 5, 5, 2
    one_pass = pictures_of(plain[i] for i in range(len(plain)))
    feed = training.flow(training.rescaling_datagen(), "train", 5)
    dataset = speed.steady_feed(feed)
    assert int(dataset.cardinality()) == len(feed) == 3
    passes = [pictures_of(dataset.as_numpy_iterator()) for _ in range(3)]  # fit reads it anew every epoch
    for seen in passes:
        assert sorted(seen) == sorted(one_pass) and len(set(seen)) == 12
    assert passes[0] != passes[1] != passes[2]  # the iterator shuffled between passes (the check can fail)
    assert len(feed) == 3 and feed.samples == 12  # still the iterator a learner made


def test_steady_validation_feed_gives_the_batches_in_order_every_pass(tiny_split):
    validation = training.flow(training.rescaling_datagen(), "validation", 3, shuffle=False)
    expected = [validation[i] for i in range(len(validation))]
    dataset = speed.steady_feed(validation)
    for _ in range(2):
        batches = list(dataset.as_numpy_iterator())
        assert len(batches) == len(expected) == 3
        for (x, y), (x0, y0) in zip(batches, expected, strict=True):
            np.testing.assert_array_equal(x, x0)
            np.testing.assert_array_equal(y, y0)


def tiny_classifier():
    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input((150, 150, 3)), keras.layers.AveragePooling2D(10), keras.layers.Flatten(),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def test_steady_feed_in_the_books_calls(tiny_split):
    """Listing 5.8's call (steps_per_epoch = one pass) and 5.14's (validation_steps beyond one pass): it runs,
    Keras says nothing about shuffling, and validation scores the whole validation split once, as the iterator."""
    train = training.flow(training.rescaling_datagen(), "train", 4)
    validation = training.flow(training.rescaling_datagen(), "validation", 3, shuffle=False)
    model = tiny_classifier()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        history = model.fit(speed.steady_feed(train), steps_per_epoch=3, epochs=2, verbose=0,
                            validation_data=speed.steady_feed(validation), validation_steps=50)
        endless = model.fit(training.endless(train), steps_per_epoch=3, epochs=1, shuffle=False, verbose=0,
                            validation_data=speed.steady_feed(validation), validation_steps=50)
    assert not [w for w in caught if "shuffle" in str(w.message)]
    assert len(history.history["val_loss"]) == 2 and len(endless.history["val_loss"]) == 1
    steady = model.evaluate(speed.steady_feed(validation), steps=50, verbose=0)
    np.testing.assert_allclose(steady, model.evaluate(validation, verbose=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(endless.history["val_loss"][0], steady[0], rtol=1e-5, atol=1e-6)


def test_steady_feed_rejects_other_data_with_one_clear_line(tiny_split):
    with pytest.raises(TypeError, match="steady_feed needs a flow_from_directory iterator, not ndarray"):
        speed.steady_feed(np.zeros((2, 150, 150, 3)))
    with pytest.raises(TypeError, match="not generator"):
        speed.steady_feed(training.endless(training.flow(training.rescaling_datagen(), "train", 5)))


# ---------------------------------------------------------------- with_pillow_transforms

def keras_datagen(**settings):
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    return ImageDataGenerator(**settings)


def smooth_pictures(n, height, width, seed=0):
    """Smooth random pictures with sharp edges inside, float32 in 0-255 (what img_to_array gives)."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(0, 255, (n, height // 10 + 1, width // 10 + 1, 3))
    x = np.repeat(np.repeat(small, 10, axis=1), 10, axis=2)[:, :height, :width]
    return (x + rng.normal(0, 8, x.shape)).clip(0, 255).astype(np.float32)


@pytest.mark.parametrize("settings", [
    training.BOOK_AUGMENTATION,
    dict(rotation_range=30, zoom_range=0.3, horizontal_flip=True, vertical_flip=True, channel_shift_range=20,
         brightness_range=(0.5, 1.5)),
], ids=["book", "channel-shift-and-brightness"])
def test_pillow_apply_transform_gives_keras_pixels(settings):
    keras_own = keras_datagen(**settings)
    pillow = speed.pillow_generator_class()(**settings)
    np.random.seed(2)
    for x in smooth_pictures(6, 50, 70):
        params = keras_own.get_random_transform(x.shape)
        np.testing.assert_allclose(pillow.apply_transform(x, params), keras_own.apply_transform(x, params),
                                   rtol=1e-6, atol=TOLERANCE)


@pytest.mark.parametrize("settings", [dict(fill_mode="reflect"), dict(fill_mode="constant", cval=9.0),
                                      dict(interpolation_order=0)])
def test_other_fill_modes_and_orders_stay_keras_own(settings):
    keras_own = keras_datagen(rotation_range=60, zoom_range=0.4, **settings)
    pillow = speed.pillow_generator_class()(rotation_range=60, zoom_range=0.4, **settings)
    x = smooth_pictures(1, 40, 40)[0]
    np.random.seed(3)
    params = keras_own.get_random_transform(x.shape)
    np.testing.assert_array_equal(pillow.apply_transform(x, params), keras_own.apply_transform(x, params))


def test_an_iterator_with_pillow_transforms_gives_keras_batches(tiny_split):
    """Same seeds, same random draws, same pictures: the augmentation is unchanged, only its CPU time."""
    results = []
    for pillow in (False, True):
        np.random.seed(11)
        iterator = training.flow(training.augmenting_datagen(), "train", 5, seed=None)
        if pillow:
            assert speed.with_pillow_transforms(iterator) is iterator
        results.append(([iterator[i % len(iterator)] for i in range(6)], np.random.random()))
    (keras_own, keras_next), (pillow, pillow_next) = results
    assert keras_next == pillow_next  # the random stream moved exactly as much
    for (x0, y0), (x1, y1) in zip(keras_own, pillow, strict=True):
        np.testing.assert_allclose(x1, x0, rtol=0, atol=TOLERANCE / 255)
        np.testing.assert_array_equal(y1, y0)


def test_pillow_transforms_leave_the_generator_and_the_iterator_api_alone(tiny_split):
    datagen = training.augmenting_datagen()
    plain = training.flow(datagen, "train", 5)
    fast = speed.with_pillow_transforms(training.flow(datagen, "train", 5))
    assert speed.uses_pillow(fast) and not speed.uses_pillow(plain)
    assert type(datagen).__name__ == "ImageDataGenerator" and fast.image_data_generator is not datagen
    assert "apply_transform" not in vars(datagen) and "apply_transform" not in vars(fast.image_data_generator)
    assert fast.image_data_generator.rotation_range == datagen.rotation_range == 40
    again = speed.with_pillow_transforms(fast)
    assert again is fast and again.image_data_generator is fast.image_data_generator  # twice: no change
    assert (len(fast), fast.samples, fast.class_indices) == (len(plain), plain.samples, plain.class_indices)
    x, y = fast[1]
    fast.on_epoch_end()
    assert x.shape == (5, 150, 150, 3) and x.min() >= 0 and x.max() <= 1 and y.shape == (5,)
    rescale_only = speed.with_pillow_transforms(training.flow(training.rescaling_datagen(), "train", 5))
    assert rescale_only[0][0].max() <= 1.0


def test_pillow_transforms_reject_other_data_with_one_clear_line():
    with pytest.raises(TypeError, match="with_pillow_transforms needs an ImageDataGenerator iterator, not ndarray"):
        speed.with_pillow_transforms(np.zeros((2, 150, 150, 3)))


# ---------------------------------------------------------------- FitTimeEstimate

class FakeClock:
    """A clock that moves only when told: each epoch takes the next of the given seconds."""

    def __init__(self, seconds):
        self.now, self.seconds = 0.0, list(seconds)

    def __call__(self):
        return self.now


def run_epochs(callback, clock, epochs):
    """Drive the callback as model.fit does, the fake clock giving each epoch its time."""
    callback.set_params({"epochs": epochs, "verbose": 0, "steps": 10})
    callback.on_train_begin()
    for epoch, seconds in enumerate(clock.seconds[:epochs]):
        callback.on_epoch_begin(epoch)
        clock.now += seconds
        callback.on_epoch_end(epoch, {})


def test_the_estimate_is_the_first_epoch_plus_the_later_ones_and_prints_once():
    lines, clock = [], FakeClock([50] + [20] * 9)
    callback = speed.FitTimeEstimate(profile="full", clock=clock, out=lines.append)
    run_epochs(callback, clock, 10)
    assert callback.estimate == {"epochs": 10, "first_epoch_s": 50, "epoch_s": 20, "total_s": 50 + 9 * 20,
                                 "remaining_s": 8 * 20, "after_epoch": 2}
    assert len(lines) == 1 and callback.epoch_seconds == [50] + [20] * 9
    assert lines[0].startswith("This fit (10 epochs, full profile) takes about 4 minutes on this machine (20 s per "
                               "epoch after the first); it should end at ")
    assert speed.QUICK_HINT in lines[0]
    assert sum(callback.epoch_seconds) == pytest.approx(callback.estimate["total_s"])


def test_a_slow_second_epoch_is_corrected_sparingly():
    lines, clock = [], FakeClock([50, 60] + [20] * 98)
    callback = speed.FitTimeEstimate(profile="quick", clock=clock, out=lines.append)
    run_epochs(callback, clock, 100)
    assert len(lines) <= 1 + speed.FitTimeEstimate.UPDATES and lines[-1].startswith("Update: this fit")
    assert callback.printed[0]["total_s"] == 50 + 99 * 60
    assert callback.estimate["epoch_s"] == 20 and callback.estimate is callback.printed[-1]
    assert speed.QUICK_HINT not in lines[0]  # the quick profile needs no hint


def test_short_fits_print_nothing():
    lines, clock = [], FakeClock([5, 5])
    callback = speed.FitTimeEstimate(clock=clock, out=lines.append)
    run_epochs(callback, clock, 2)
    assert lines == [] and callback.estimate is None


def test_the_callback_in_a_real_fit(capsys):
    model = tiny_classifier()
    x = np.random.default_rng(0).random((8, 150, 150, 3), dtype=np.float32)
    callback = speed.FitTimeEstimate(profile="full")
    model.fit(x, np.arange(8) % 2, batch_size=4, epochs=3, verbose=0, callbacks=[callback])
    out = capsys.readouterr().out
    assert out.count("This fit (3 epochs, full profile) takes about") == 1
    assert len(callback.epoch_seconds) == 3 and callback.estimate["epochs"] == 3


def test_minutes_read_as_a_learner_says_them():
    assert [speed.minutes(s) for s in (12, 59, 61, 570, 1750, 3435)] == [
        "about 10 seconds", "about 60 seconds", "about 1 minute", "about 10 minutes", "about 30 minutes",
        "about 55 minutes"]


def test_korean_fit_time_estimate(monkeypatch):
    estimate = {"epochs": 10, "total_s": 230, "remaining_s": 160, "epoch_s": 20}
    english = speed.estimate_message(estimate, "full", now=0)
    monkeypatch.setenv("COURSE_LANG", "ko")
    line = speed.estimate_message(estimate, "full", now=0)
    assert re.search("[가-힣]", line) and "약 4분" in line and "full" in line and "`make lab PROFILE=quick`" in line
    assert time.strftime("%H:%M", time.localtime(160)) in line  # the end time, as in English
    assert re.search("[가-힣]", speed.estimate_message(estimate, "quick", now=0, update=True))
    monkeypatch.setenv("COURSE_LANG", "en")
    assert speed.estimate_message(estimate, "full", now=0) == english
    assert english.startswith("This fit (10 epochs, full profile) takes about 4 minutes on this machine (20 s per "
                              "epoch after the first); it should end at ") and english.endswith(speed.QUICK_HINT)
