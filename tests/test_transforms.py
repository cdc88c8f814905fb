"""Pillow's affine transforms against Keras' own (scipy) on the same random parameters: same pixels, same batches."""
import numpy as np
import pytest

from helpers import speed, training, transforms

# Largest difference allowed on the 0-255 scale: float32 rounding (Keras' and Pillow's pixels came out equal).
TOLERANCE = 1e-3


def pictures(n, height=150, width=150, channels=3, seed=0):
    """Smooth random pictures with sharp edges inside, float32 in 0-255 (what img_to_array gives)."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(0, 255, (n, height // 10 + 1, width // 10 + 1, channels))
    x = np.repeat(np.repeat(small, 10, axis=1), 10, axis=2)[:, :height, :width]
    return (x + rng.normal(0, 8, x.shape)).clip(0, 255).astype(np.float32)


def keras_affine(x, params, fill_mode="nearest", order=1):
    """Keras' legacy apply_affine_transform, called as ImageDataGenerator.apply_transform calls it."""
    from keras.src.legacy.preprocessing.image import apply_affine_transform

    p = {**transforms.AFFINE_DEFAULTS, **params}
    return apply_affine_transform(x, p["theta"], p["tx"], p["ty"], p["shear"], p["zx"], p["zy"], row_axis=0,
                                  col_axis=1, channel_axis=2, fill_mode=fill_mode, order=order)


def datagen(**kwargs):
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    return ImageDataGenerator(**kwargs)


WIDE = dict(rotation_range=90, width_shift_range=0.5, height_shift_range=0.3, shear_range=45, zoom_range=(0.5, 1.6),
            horizontal_flip=True, vertical_flip=True)


@pytest.mark.parametrize("settings", [training.BOOK_AUGMENTATION, WIDE], ids=["book", "wide"])
@pytest.mark.parametrize("shape", [(150, 150, 3), (40, 64, 3), (33, 20, 1)])
def test_affine_gives_keras_pixels(settings, shape):
    gen = datagen(**settings)
    np.random.seed(1)
    for x in pictures(12, *shape):
        params = gen.get_random_transform(x.shape)
        ours, theirs = transforms.affine(x, params), keras_affine(x, params)
        assert ours.dtype == theirs.dtype == np.float32 and ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("params", [dict(theta=90), dict(tx=-7.5), dict(ty=3), dict(shear=30), dict(zx=0.5),
                                    dict(zy=1.7), dict(theta=-135, tx=4, ty=-9, shear=-20, zx=1.3, zy=0.8)])
def test_each_parameter_alone_moves_the_pixels_as_keras_does(params):
    x = pictures(1, 48, 36)[0]
    ours = transforms.affine(x, params)
    assert not np.allclose(ours, x)  # the check can fail: the picture did move
    np.testing.assert_allclose(ours, keras_affine(x, params), rtol=0, atol=TOLERANCE)


def test_a_transform_that_moves_nothing_leaves_the_picture_as_it_is():
    x = pictures(1)[0]
    assert transforms.affine(x, {"theta": 0, "tx": 0, "zx": 1.0, "flip_horizontal": 1}) is x
    assert transforms.is_identity({}) and not transforms.is_identity({"shear": 0.1})


def test_the_edge_margin_covers_what_the_transform_reads():
    matrix = transforms.affine_matrix({"theta": 45, "zx": 1.5, "zy": 1.5}, 100, 100)
    corner = matrix @ np.array([0, 0, 1.0])  # the top-left output pixel reads far outside the picture
    margin = transforms.edge_margin(matrix, 100, 100)
    assert margin >= -corner[:2].min() + 1 and margin > 20
    assert transforms.edge_margin(np.eye(3), 100, 100) == 2


def test_apply_transform_does_the_rest_as_keras_does():
    gen = datagen(rotation_range=30, zoom_range=0.3, horizontal_flip=True, vertical_flip=True,
                  channel_shift_range=20, brightness_range=(0.5, 1.5))
    np.random.seed(2)
    for x in pictures(8, 50, 70):
        params = gen.get_random_transform(x.shape)
        np.testing.assert_allclose(transforms.apply_transform(gen, x, params), gen.apply_transform(x, params),
                                   rtol=1e-6, atol=TOLERANCE)


@pytest.mark.parametrize("settings", [dict(fill_mode="reflect"), dict(fill_mode="constant", cval=9.0),
                                      dict(interpolation_order=0)])
def test_other_fill_modes_and_orders_stay_keras_own(settings):
    gen = datagen(rotation_range=60, zoom_range=0.4, **settings)
    x = pictures(1, 40, 40)[0]
    assert not transforms.supported(gen, x)
    np.random.seed(3)
    params = gen.get_random_transform(x.shape)
    np.testing.assert_array_equal(transforms.apply_transform(gen, x, params), gen.apply_transform(x, params))


def iterator_batches(iterator, batches=6):
    return [iterator[i % len(iterator)] for i in range(batches)]


def test_an_iterator_with_pillow_transforms_gives_keras_batches(tiny_split):
    """Same seeds, same random draws, same batches: the augmentation's distribution is unchanged."""
    results = []
    for pillow in (False, True):
        np.random.seed(11)
        iterator = speed.decode_once(training.flow(training.augmenting_datagen(), "train", 5, seed=None))
        if pillow:
            assert speed.transform_with_pillow(iterator) is iterator
        results.append((iterator_batches(iterator), np.random.random()))
    (keras_own, keras_next), (pillow, pillow_next) = results
    assert keras_next == pillow_next  # the random stream moved exactly as much
    for (x0, y0), (x1, y1) in zip(keras_own, pillow, strict=True):
        np.testing.assert_allclose(x1, x0, rtol=0, atol=TOLERANCE / 255)
        np.testing.assert_array_equal(y1, y0)
    stats = [np.array([(x.mean(axis=(0, 1, 2)), x.std(axis=(0, 1, 2))) for x, _ in run]) for run in (keras_own, pillow)]
    np.testing.assert_allclose(stats[1], stats[0], rtol=1e-5)


def test_pillow_transforms_change_only_that_iterator(tiny_split):
    gen = training.augmenting_datagen()
    fast = speed.transform_with_pillow(training.flow(gen, "train", 5))
    plain = training.flow(gen, "train", 5)
    assert speed.transforms_with_pillow(fast) and not speed.transforms_with_pillow(plain)
    assert "apply_transform" not in vars(gen) and fast.image_data_generator is not gen
    assert speed.transform_with_pillow(fast).image_data_generator is fast.image_data_generator  # twice: no change
    rescale_only = speed.transform_with_pillow(training.flow(training.rescaling_datagen(), "train", 5))
    assert rescale_only[0][0].max() <= 1.0


def test_pillow_transforms_reject_other_data_with_one_clear_line():
    with pytest.raises(TypeError, match="transform_with_pillow needs an ImageDataGenerator iterator, not ndarray"):
        speed.transform_with_pillow(np.zeros((2, 150, 150, 3)))
