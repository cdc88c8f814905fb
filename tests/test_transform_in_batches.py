"""transform_in_batches: a batch's random augmentation in one call, checked against Keras' own apply_transform."""
import numpy as np
import pytest

from helpers import keras_internals, speed, training

PIXEL_TOLERANCE = 1e-2  # on the 0-255 scale, before rescaling: float32 coordinates against scipy's float64


def random_pictures(n, seed=0, size=(150, 150)):
    """n smooth random RGB pictures on the 0-255 scale (what the cache hands out, as float32)."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((n, size[0] // 10, size[1] // 10, 3)) * 255
    return np.repeat(np.repeat(coarse, 10, axis=1), 10, axis=2).astype(np.float32) + rng.random(
        (n,) + size + (3,), dtype=np.float32)


@pytest.mark.parametrize("overrides", [
    {},  # the book's augmentation: rotation, shifts, shear, zoom, horizontal flip
    {"rotation_range": 180, "vertical_flip": True},
    {"zoom_range": [0.5, 1.5], "shear_range": 45, "width_shift_range": 0.4, "height_shift_range": 0.4},
])
def test_the_batch_call_gives_keras_own_pixels(overrides):
    datagen = training.augmenting_datagen(**overrides)
    assert keras_internals.batch_transformable(datagen)
    pictures = random_pictures(24)
    np.random.seed(1)
    params = [datagen.get_random_transform(x.shape) for x in pictures]
    keras_own = np.stack([datagen.apply_transform(x, p) for x, p in zip(pictures, params)])
    batch = keras_internals._transform_batch(pictures, params)
    assert batch.dtype == keras_own.dtype and batch.shape == keras_own.shape
    np.testing.assert_allclose(batch, keras_own, rtol=0, atol=PIXEL_TOLERANCE)
    # The pictures really moved, so the comparison can fail: each differs from its untransformed self.
    assert all(np.abs(k - x).mean() > 1 for k, x in zip(keras_own, pictures))


def test_a_wrong_matrix_would_be_caught():
    datagen = training.augmenting_datagen()
    pictures = random_pictures(4, seed=2)
    np.random.seed(3)
    params = [datagen.get_random_transform(x.shape) for x in pictures]
    keras_own = np.stack([datagen.apply_transform(x, p) for x, p in zip(pictures, params)])
    turned = [{**p, "theta": p["theta"] + 1} for p in params]  # one degree more rotation
    assert np.abs(keras_internals._transform_batch(pictures, turned) - keras_own).max() > 10 * PIXEL_TOLERANCE


def all_batches(iterator, epochs=2):
    out = []
    for _ in range(epochs):
        out += [iterator[i] for i in range(len(iterator))]
        iterator.on_epoch_end()
    return out


def test_batches_match_keras_own_and_the_random_stream_moves_alike(tiny_split):
    results = []
    for in_batches in (False, True):
        np.random.seed(7)
        iterator = speed.decode_once(training.flow(training.augmenting_datagen(), "train", batch_size=5, seed=None))
        if in_batches:
            assert speed.transform_in_batches(iterator) is iterator
        results.append((all_batches(iterator), np.random.random()))
    (plain, plain_next), (fast, fast_next) = results
    assert plain_next == fast_next  # the same draws from NumPy's global generator, in the same number
    for (x0, y0), (x1, y1) in zip(plain, fast, strict=True):
        np.testing.assert_array_equal(y0, y1)
        np.testing.assert_allclose(x1, x0, rtol=0, atol=PIXEL_TOLERANCE / 255)  # after rescaling to [0, 1]
        assert x1.dtype == x0.dtype
    x0, x1 = np.concatenate([b[0] for b in plain]), np.concatenate([b[0] for b in fast])
    assert abs(x1.mean() - x0.mean()) < 1e-6 and abs(x1.std() - x0.std()) < 1e-6  # the same batch statistics


def test_settings_the_batch_call_does_not_cover_keep_keras_own_way(tiny_split):
    for overrides in ({"channel_shift_range": 20.0}, {"fill_mode": "reflect"}, {"brightness_range": [0.8, 1.2]}):
        datagen = training.augmenting_datagen(**overrides)
        assert not keras_internals.batch_transformable(datagen)
        results = []
        for in_batches in (False, True):
            np.random.seed(11)
            iterator = speed.decode_once(training.flow(datagen, "train", batch_size=6, seed=None))
            if in_batches:
                speed.transform_in_batches(iterator)
            results.append(all_batches(iterator, epochs=1))
        for (x0, _), (x1, _) in zip(*results, strict=True):
            np.testing.assert_array_equal(x0, x1)  # bit for bit: Keras' own apply_transform


def test_make_generators_transforms_the_augmented_training_data_in_batches(tiny_split):
    train, validation = training.make_generators(batch_size=4, augment=True)
    assert keras_internals.transforms_batches(train) and speed.decodes_once(validation)
    assert not keras_internals.transforms_batches(validation)
    twin = keras_internals.independent_copy(train)
    assert keras_internals.transforms_batches(twin) and twin._decode_once_cache is not train._decode_once_cache
    plain, _ = training.make_generators(batch_size=4)
    assert not keras_internals.transforms_batches(plain)


def test_transform_in_batches_rejects_other_data():
    with pytest.raises(TypeError, match="flow_from_directory"):
        speed.transform_in_batches(np.zeros((2, 150, 150, 3)))


def test_training_on_batch_transformed_data_gives_keras_own_losses(tiny_split):
    """Notebook 06's fit (endless() over the augmented iterator, dropout model) with either way of transforming.

    The pixels differ by float32 rounding (about 1e-5 of a pixel value); RMSprop's first steps divide gradients by
    their tiny running size and so amplify such differences a little from the second epoch on (measured: training
    losses within 0.004, validation losses within 0.001 over 5 epochs). Other transforms (the iterator's seed
    changed by one) move the losses ten times as far from the first epoch on.
    """
    from test_keras_internals import fit_history

    def keras_own(train, seed_change=0):
        train._transform_in_batches = False  # back to Keras' apply_transform, picture by picture
        train.seed += seed_change
        return training.endless(train), {"steps_per_epoch": 4, "shuffle": False}

    own = fit_history(keras_own, augment=True)
    in_batches = fit_history(lambda train: (training.endless(train), {"steps_per_epoch": 4, "shuffle": False}),
                             augment=True)
    other = fit_history(lambda train: keras_own(train, seed_change=1), augment=True)
    assert in_batches["loss"][0] == pytest.approx(own["loss"][0], abs=1e-3)
    np.testing.assert_allclose(in_batches["val_loss"], own["val_loss"], rtol=0, atol=2e-3)
    np.testing.assert_allclose(in_batches["loss"], own["loss"], rtol=0, atol=1e-2)
    assert abs(other["loss"][0] - own["loss"][0]) > 1e-2  # the checks above can fail
