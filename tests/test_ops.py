"""helpers.ops against Keras' own layers, hand-computed tiny cases and the book's numbers."""
import itertools

import numpy as np
import pytest

from helpers import ops

# The explorers' ranges: 3x3 kernels (plus other sizes for coverage), stride 1-3, both paddings;
# pool size 2-4, pool stride 1-4, both paddings, max and avg.
CONV_CASES = list(itertools.product([(3, 3), (2, 2), (5, 3)], [1, 2, 3], ["valid", "same"]))
POOL_CASES = list(itertools.product([2, 3, 4], [None, 1, 2, 3, 4], ["valid", "same"], ["max", "avg"]))


@pytest.fixture(scope="module")
def keras():
    import keras
    return keras


def keras_conv(keras, x, kernels, bias, stride, padding):
    """Run keras.layers.Conv2D with the given weights on one image."""
    kh, kw, _, c_out = kernels.shape
    layer = keras.layers.Conv2D(c_out, (kh, kw), strides=stride, padding=padding)
    layer.build((None,) + x.shape)
    layer.set_weights([kernels.astype("float32"), bias.astype("float32")])
    return np.asarray(layer(x[None].astype("float32")))[0]


@pytest.mark.parametrize("ksize,stride,padding", CONV_CASES)
@pytest.mark.parametrize("c_in,c_out", [(1, 1), (3, 4)])
def test_conv2d_matches_keras(keras, ksize, stride, padding, c_in, c_out):
    rng = np.random.default_rng([ksize[0], ksize[1], stride, len(padding), c_in])
    x = rng.normal(size=(11, 14, c_in))
    kernels = rng.normal(size=ksize + (c_in, c_out))
    bias = rng.normal(size=c_out)
    expected = keras_conv(keras, x, kernels, bias, stride, padding)
    got = ops.conv2d(x, kernels, bias, stride=stride, padding=padding)
    assert got.shape == expected.shape
    assert got.shape[:2] == (ops.conv_output_size(11, ksize[0], stride, padding),
                             ops.conv_output_size(14, ksize[1], stride, padding))
    assert np.max(np.abs(got - expected)) < 1e-4


@pytest.mark.parametrize("stride,padding", list(itertools.product([1, 2, 3], ["valid", "same"])))
def test_conv2d_matches_keras_on_explorer_sized_image(keras, stride, padding):
    rng = np.random.default_rng(stride)
    x = rng.uniform(size=(150, 150, 1))
    kernel = rng.normal(size=(3, 3, 1, 1))
    expected = keras_conv(keras, x, kernel, np.zeros(1), stride, padding)
    got = ops.conv2d(x[:, :, 0], kernel[:, :, 0, 0], stride=stride, padding=padding)
    assert got.shape == expected.shape
    assert np.max(np.abs(got - expected)) < 1e-4


@pytest.mark.parametrize("size,stride,padding,mode", POOL_CASES)
def test_pool2d_matches_keras(keras, size, stride, padding, mode):
    rng = np.random.default_rng(size * 100 + (stride or 0) * 10 + len(padding))
    x = rng.normal(size=(13, 10, 3))
    layer_cls = keras.layers.MaxPooling2D if mode == "max" else keras.layers.AveragePooling2D
    layer = layer_cls(pool_size=size, strides=stride, padding=padding)
    expected = np.asarray(layer(x[None].astype("float32")))[0]
    got = ops.pool2d(x, size=size, stride=stride, mode=mode, padding=padding)
    assert got.shape == expected.shape
    assert np.max(np.abs(got - expected)) < 1e-4
    assert ops.pool2d(x[:, :, 1], size, stride, mode, padding).shape == expected.shape[:2]


def test_conv2d_by_hand_4x4_input_2x2_kernel():
    x = np.arange(16, dtype=float).reshape(4, 4)
    k = np.array([[1.0, 0.0], [0.0, -1.0]])  # x[i, j] - x[i + 1, j + 1] = -5 everywhere
    np.testing.assert_array_equal(ops.conv2d(x, k)[:, :, 0], np.full((3, 3), -5.0))
    k2 = np.array([[1.0, 2.0], [3.0, 4.0]])  # not flipped: top-left weight meets the top-left pixel
    # window at (0, 0) is [[0, 1], [4, 5]] -> 0 + 2 + 12 + 20 = 34; each step right adds 10, down 40
    np.testing.assert_array_equal(ops.conv2d(x, k2)[:, :, 0],
                                  [[34, 44, 54], [74, 84, 94], [114, 124, 134]])
    # stride 2: windows at (0,0), (0,2), (2,0), (2,2)
    np.testing.assert_array_equal(ops.conv2d(x, k2, stride=2)[:, :, 0], [[34, 54], [114, 134]])
    # 'same' with a 2x2 kernel pads one row and one column after (bottom/right): last column sees 0s
    same = ops.conv2d(x, k2, padding="same")[:, :, 0]
    assert same.shape == (4, 4)
    assert same[0, 3] == 3 * 1 + 7 * 3  # [[3, 0], [7, 0]]
    assert same[3, 3] == 15 * 1


def test_pool2d_by_hand_4x4():
    x = np.array([[1, 3, 2, 1], [4, 2, 0, 1], [5, 1, 9, 8], [0, 2, 7, 6]], dtype=float)
    np.testing.assert_array_equal(ops.pool2d(x, 2), [[4, 2], [5, 9]])
    np.testing.assert_array_equal(ops.pool2d(x, 2, mode="avg"), [[2.5, 1.0], [2.0, 7.5]])
    # 3x3 windows, stride 2, 'same': pad total 1, all after; the corner window averages 4 real cells
    np.testing.assert_allclose(ops.pool2d(x, 3, 2, "avg", "same")[1, 1], (9 + 8 + 7 + 6) / 4)
    np.testing.assert_array_equal(ops.pool_argmax(x, 2), [[[1, 0], [0, 2]], [[2, 0], [2, 2]]])


def test_pool_argmax_points_at_the_kept_values():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(9, 11))
    for size, stride, padding in itertools.product([2, 3], [1, 2, 3], ["valid", "same"]):
        idx = ops.pool_argmax(x, size, stride, padding)
        kept = x[idx[..., 0], idx[..., 1]]
        np.testing.assert_array_equal(kept, ops.pool2d(x, size, stride, "max", padding))


def test_conv_step_matches_conv2d():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 8))
    k = rng.normal(size=(3, 3))
    for stride, padding in itertools.product([1, 2, 3], ["valid", "same"]):
        fmap = ops.conv2d(x, k, stride=stride, padding=padding)[:, :, 0]
        for i, j in itertools.product(range(fmap.shape[0]), range(fmap.shape[1])):
            patch, product, value = ops.conv_step(x, k, i, j, stride, padding)
            assert patch.shape == (3, 3)
            np.testing.assert_allclose(product, patch * k)
            assert value == pytest.approx(fmap[i, j])
    patch, _, _ = ops.conv_step(x, k, 0, 0, 1, "same")
    np.testing.assert_array_equal(patch[0], 0)  # the row above the image is padding
    np.testing.assert_array_equal(patch[1:, 1:], x[:2, :2])
    with pytest.raises(IndexError, match="outside"):
        ops.conv_step(x, k, 5, 0)


def test_book_numbers():
    # Listing 5.1: Conv2D(32, (3, 3)) on (150, 150, 3), then Conv2D(64, (3, 3)) after pooling
    assert ops.conv_output_size(150, 3) == 148
    assert ops.conv_params(3, 3, 3, 32) == 896
    assert ops.pool2d(np.zeros((148, 148, 32)), 2).shape == (74, 74, 32)
    assert ops.conv_output_size(74, 3) == 72
    assert ops.conv_params(3, 3, 32, 64) == 18_496
    assert ops.conv2d(np.zeros((150, 150, 3)), np.zeros((3, 3, 3, 32))).shape == (148, 148, 32)
    # 5x5 input, 3x3 window: 3x3 'valid', 5x5 'same'; stride 2 gives 2x2 (figures 5.5-5.7)
    assert ops.conv_output_size(5, 3) == 3
    assert ops.conv_output_size(5, 3, padding="same") == 5
    assert ops.conv_output_size(5, 3, stride=2) == 2


def test_conv_params_matches_keras(keras):
    layer = keras.layers.Conv2D(64, (3, 3))
    layer.build((None, 72, 72, 32))
    assert layer.count_params() == ops.conv_params(3, 3, 32, 64)


def test_bad_input_errors_name_the_problem():
    with pytest.raises(ValueError, match="padding"):
        ops.conv2d(np.zeros((5, 5)), np.zeros((3, 3)), padding="full")
    with pytest.raises(ValueError, match="input channels"):
        ops.conv2d(np.zeros((5, 5, 3)), np.zeros((3, 3, 1, 2)))
    with pytest.raises(ValueError, match="stride"):
        ops.conv2d(np.zeros((5, 5)), np.zeros((3, 3)), stride=0)
    with pytest.raises(ValueError, match="larger than the input"):
        ops.conv2d(np.zeros((2, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="mode"):
        ops.pool2d(np.zeros((4, 4)), mode="median")
    with pytest.raises(ValueError, match="bias"):
        ops.conv2d(np.zeros((5, 5)), np.zeros((3, 3, 1, 2)), bias=[1.0])


def test_ops_does_not_import_tensorflow():
    import subprocess
    import sys
    code = "import sys, helpers.ops; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def empirical_receptive_field(layers, n=40):
    """Count the input pixels along the middle row that can change the centre output cell."""
    def forward(x):
        for kind, k, s in layers:
            x = ops.conv2d(x, np.ones((k, k)), stride=s)[:, :, 0] if kind == "conv" else ops.pool2d(x, k, s)
        return x
    centre = tuple(v // 2 for v in forward(np.zeros((n, n))).shape)
    return sum(forward(np.pad([[1.0]], ((n // 2, n - n // 2 - 1), (c, n - c - 1))))[centre] > 0
               for c in range(n))


def test_receptive_field_book_and_brute_force():
    no_pool = [("conv", 3, 1)] * 3
    pooled = [("conv", 3, 1), ("pool", 2, 2), ("conv", 3, 1), ("pool", 2, 2), ("conv", 3, 1)]
    # the book: third-layer 3x3 windows of the unpooled model see only 7x7 of the input
    assert ops.receptive_field([(3, 1)] * 3) == 7 == empirical_receptive_field(no_pool)
    assert ops.receptive_field([(k, s) for _, k, s in pooled]) == 18 == empirical_receptive_field(pooled)


def test_channel_grid_tiles_every_channel():
    act = np.random.default_rng(0).random((5, 7, 10)).astype("float32")
    act[:, :, 3] = 0.0
    grid = ops.channel_grid(act, cols=4, gap=1)
    assert grid.shape == (3 * 6 - 1, 4 * 8 - 1) and grid.dtype == np.uint8
    assert (grid[0:5, 3 * 8:3 * 8 + 7] == 0).all()  # the dead channel shows flat
    assert ops.dead_channels(act) == 1
    np.testing.assert_array_equal(grid[6:11, 8:15], ops.normalize_channel(act[:, :, 5]))
