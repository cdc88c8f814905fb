"""Pillow's affine transforms against Keras' own (scipy) on the same random parameters: the same pixels.

The ImageDataGenerator that uses them, and its batches, are tested in test_speed.py."""
import numpy as np
import pytest

from helpers import training, transforms

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
    from tensorflow.keras.preprocessing.image import apply_affine_transform

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


def test_affine_done_leaves_keras_the_rest():
    gen = datagen(rotation_range=30, zoom_range=0.3, horizontal_flip=True, vertical_flip=True,
                  channel_shift_range=20, brightness_range=(0.5, 1.5))
    np.random.seed(2)
    for x in pictures(8, 50, 70):
        params = gen.get_random_transform(x.shape)
        moved, rest = transforms.affine_done(x, params)
        assert transforms.is_identity(rest) and rest["flip_horizontal"] == params["flip_horizontal"]
        np.testing.assert_allclose(gen.apply_transform(moved, rest), gen.apply_transform(x, params),
                                   rtol=1e-6, atol=TOLERANCE)


def test_other_fill_modes_and_orders_are_not_supported():
    x = pictures(1, 40, 40)[0]
    for settings in (dict(fill_mode="reflect"), dict(fill_mode="constant", cval=9.0), dict(interpolation_order=0)):
        assert not transforms.supported(datagen(**settings), x)
    assert transforms.supported(datagen(**training.BOOK_AUGMENTATION), x)
