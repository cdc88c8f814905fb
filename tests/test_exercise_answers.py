"""Every exercise against a table of answers: right answers in the forms a learner writes, wrong answers with the
message each must get (its key, which holds in every language, and a fragment of the English text).

The tables are data: a translation of the messages is checked with the same rows (the keys stay, only the
fragments are English). Every message key an exercise registers is reached by some row, so no message is
unreachable, and none renders with a missing field."""
import math
import re

import numpy as np
import pytest

from helpers import config, exercises, ops
from helpers.exercises import CORRECT, UNANSWERED, UNREADABLE, WRONG, core, messages


def layers():
    """keras.layers, imported only when a row builds a layer."""
    from keras import layers as keras_layers
    return keras_layers


def tensor(value):
    """A TensorFlow tensor: what a learner gets from a Keras layer or keras.ops."""
    import tensorflow as tf
    return tf.constant(value)


# ------------------------------------------------------------------------------- functions learners write

def conv_right(image, kernel):
    """The stride-2 'valid' convolution with NumPy slicing."""
    kh, kw = kernel.shape
    oh, ow = (image.shape[0] - kh) // 2 + 1, (image.shape[1] - kw) // 2 + 1
    return np.array([[np.sum(image[2 * i:2 * i + kh, 2 * j:2 * j + kw] * kernel) for j in range(ow)]
                     for i in range(oh)])


def conv_as_lists(image, kernel):
    """The same, returned as nested lists."""
    return conv_right(image, kernel).tolist()


def stride1(image, kernel):
    """A stride-1 convolution: the window moves one cell at a time."""
    return ops.conv2d(image, kernel)[:, :, 0]


def flipped(image, kernel):
    """A textbook convolution: the kernel flipped."""
    return ops.conv2d(image, kernel[::-1, ::-1], stride=2)[:, :, 0]


def transposed_kernel(image, kernel):
    """kernel[j, i] for kernel[i, j]."""
    return conv_right(image, kernel.T)


def swapped_output(image, kernel):
    """Right values, but height and width swapped when the output is not square."""
    out = conv_right(image, kernel)
    return out.T if out.shape[0] != out.shape[1] else out


def same_padded(image, kernel):
    """Stride 2 with 'same' padding."""
    return ops.conv2d(image, kernel, stride=2, padding="same")[:, :, 0]


def off_by_one(image, kernel):
    """Right shape, every value 1 too high."""
    return conv_right(image, kernel) + 1


def tiny_output(image, kernel):
    """A 1x1 output whatever the input."""
    return np.zeros((1, 1))


def text_output(image, kernel):
    """Returns text."""
    return "done"


def no_return(image, kernel):
    """Computes but forgets to return."""
    ops.conv2d(image, kernel, stride=2)


def crashes(image, kernel):
    """Indexes past the end."""
    return image[image.shape[0] + 5, 0] * kernel


def blank_right(activation):
    """All-zero channels, with NumPy."""
    return int(np.all(activation == 0, axis=(0, 1)).sum())


def blank_numpy_int(activation):
    """The same, returned as a NumPy integer."""
    return np.sum(activation.max(axis=(0, 1)) == 0)


def any_zero(activation):
    """Counts channels with some zero, not all zeros."""
    return int((activation <= 0).reshape(-1, activation.shape[-1]).any(axis=0).sum())


def blank_share(activation):
    """The share of blank channels, not their number."""
    return ops.dead_channels(activation) / activation.shape[-1]


def blank_rows(activation):
    """Counts blank rows: the wrong axis."""
    return int((activation.max(axis=(1, 2)) <= 0).sum())


def threshold(activation):
    """Counts channels whose maximum is below a threshold."""
    return int((activation.max(axis=(0, 1)) < 0.5).sum())


def is_close(activation):
    """Counts channels whose maximum is close to 0 (np.isclose's tolerance)."""
    return int(np.isclose(activation.max(axis=(0, 1)), 0, atol=1e-3).sum())


def blank_text(activation):
    """Returns the count as text."""
    return "2"


def blank_many(activation):
    """A count far off."""
    return 99


def mnist(dropout_at=6, rate=0.5, input_shape=(28, 28, 1), dense=64, with_input=True, filters=32, dropouts=1):
    """Listings 5.1-5.2 with a Dropout inserted before layer index dropout_at (None: no Dropout)."""
    import keras
    lay = layers()
    stack = [lay.Conv2D(filters, (3, 3), activation="relu"), lay.MaxPooling2D((2, 2)),
             lay.Conv2D(64, (3, 3), activation="relu"), lay.MaxPooling2D((2, 2)),
             lay.Conv2D(64, (3, 3), activation="relu"), lay.Flatten(),
             lay.Dense(dense, activation="relu"), lay.Dense(10, activation="softmax")]
    for _ in range(dropouts if dropout_at is not None else 0):
        stack.insert(dropout_at, lay.Dropout(rate))
    return keras.Sequential(([keras.Input(shape=input_shape)] if with_input else []) + stack)


def mnist_functional():
    """The same model written with the functional API."""
    import keras
    lay = layers()
    inputs = keras.Input(shape=(28, 28, 1))
    x = lay.Conv2D(32, 3, activation="relu")(inputs)
    x = lay.MaxPooling2D(2)(x)
    x = lay.Conv2D(64, 3, activation="relu")(x)
    x = lay.MaxPooling2D(2)(x)
    x = lay.Conv2D(64, 3, activation="relu")(x)
    x = lay.Dropout(0.5)(lay.Flatten()(x))
    x = lay.Dense(64, activation="relu")(x)
    return keras.Model(inputs, lay.Dense(10, activation="softmax")(x))


def datagen(**kwargs):
    """An ImageDataGenerator with the described settings, overridden by kwargs."""
    from tensorflow.keras.preprocessing.image import ImageDataGenerator
    settings = dict(rotation_range=20, width_shift_range=0.1, zoom_range=0.1, horizontal_flip=True,
                    fill_mode="constant", rescale=1 / 255)
    return ImageDataGenerator(**{**settings, **kwargs})


def datagen_subclass():
    """A subclass that changes the pictures without changing a setting."""
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    class Brighter(ImageDataGenerator):
        def standardize(self, x):
            return super().standardize(x) + 0.5
    return Brighter(rotation_range=20, width_shift_range=0.1, zoom_range=0.1, horizontal_flip=True,
                    fill_mode="constant", rescale=1 / 255)


def dropout_output():
    """What Dropout(0.5) gives np.ones(8) while training: a tensor of 0s and 2s."""
    return layers().Dropout(0.5, seed=3)(np.ones(8, "float32"), training=True)


PATCH = np.array([[1, 3, 2, 1], [4, 2, 0, 1], [5, 1, 9, 8], [0, 2, 7, 6]])  # the notebook's 4x4 map
SOBEL_Y = [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]


class Maker:
    """An answer built when the row runs (Keras objects, tensors): the table stays plain data."""

    def __init__(self, build, label):
        self.build, self.label = build, label

    def __repr__(self):
        return self.label


def build(label, fn, *args, **kwargs):
    """A Maker for fn(*args, **kwargs), shown as label in test ids."""
    return Maker(lambda: fn(*args, **kwargs), label)


def make(answer):
    """The answer itself, or what a Maker builds."""
    return answer.build() if isinstance(answer, Maker) else answer


# ------------------------------------------------------------------------------- right answers, in several forms

RIGHT = {
    "01.1": [(32, 32, 16), [32, 32, 16], np.array([32, 32, 16]), (None, 32, 32, 16),
             build("tensor", tensor, [32, 32, 16])],
    "01.2": [1216, np.int64(1216), 1216.0, np.array(1216), build("tensor", tensor, 1216)],
    "01.3": [conv_right, conv_as_lists],
    "01.4": [np.array(SOBEL_Y), SOBEL_Y, [[1, 1, 1], [0, 0, 0], [-1, -1, -1]], [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
             [[0, 0, 0], [1, 1, 1], [-1, -1, -1]], np.array(SOBEL_Y) / 3, build("tensor", tensor, SOBEL_Y)],
    "01.5": [(4, 4, 64), [4, 4, 64], np.array([4, 4, 64]), (None, 4, 4, 64), build("tensor", tensor, [4, 4, 64])],
    "01.6": [37_578, np.int64(37_578), 37578.0, np.array(37_578), build("tensor", tensor, 37_578)],
    "01.7": [216_320, np.int64(216_320), 216320.0, (28 - 3 + 1) ** 2 * 32 * (3 * 3 + 1)],
    "02.1": [10, np.int32(10), 10.0],
    "02.2": [2_654_720, np.int64(2_654_720)],
    "02.3": [[[2.5, 1.0], [2.0, 7.5]], np.array([[2.5, 1], [2, 7.5]], "float32"),
             build("tensor", tensor, [[2.5, 1.0], [2.0, 7.5]])],
    "02.4": [(8, 8, 128), np.array([8, 8, 128]), (None, 8, 8, 128)],
    "03.1": [{"train": 1400, "validation": 300, "test": 300}, (1400, 300, 300), [1400, 300, 300],
             np.array([1400, 300, 300]), {"train": np.int64(1400), "validation": 300.0, "test": 300},
             build("tensor", tensor, [1400, 300, 300])],
    "03.2": [(1400, 1699), [1400, 1699], np.array([1400, 1699]), ("cat.1400.jpg", "cat.1699.jpg")],
    "03.3": ["b", "B", "(b)", ["b"]],
    "03.4": [400, np.int64(400), 400.0],
    "04.1": [5, np.int64(5), 5.0],
    "04.2": [1_773_697, np.int64(1_773_697)],
    "04.3": [(80, 63), [80, 63], np.array([80, 63]), (80.0, 63.0), build("tensor", tensor, [80, 63])],
    "04.4": [0, np.int64(0), 0.0],
    "05.1": [build("the described generator", datagen),
             build("with cval=0", datagen, cval=0), build("rescale=1./255", datagen, rescale=1. / 255)],
    "05.2": [{"b", "c"}, "b, c", "bc", ["c", "b"], np.array(["b", "c"])],
    "05.3": [math.degrees(0.2), 11.46, 11.5, 11.3, np.float32(11.46), np.degrees(0.2)],
    "05.4": [2, np.int64(2), 2.0],
    "06.1": [build("Sequential with Input", mnist), build("Sequential without Input", mnist, with_input=False),
             build("functional", mnist_functional)],
    "06.2": [0, 0.0, np.int64(0)],
    "06.3": ["b", "B"],
    "06.4": [{0.0, 2.0}, {0, 2}, [2, 0], (0.0, 2.0), np.array([0.0, 2.0]),
             build("np.unique of the output", lambda: np.unique(dropout_output())),
             build("the output itself", dropout_output)],
    "06.5": ["b", "(b)"],
    "07.1": [(34, 34, 128), np.array([34, 34, 128]), (None, 34, 34, 128)],
    "07.2": ["a", "A"],
    "07.3": [(15, 15), [15, 15], np.array([15, 15]), (None, 15, 15)],
    "07.4": [blank_right, blank_numpy_int],
    "08.1": [build("30 / 360", lambda: layers().RandomRotation(30 / 360, fill_mode="nearest")),
             build("a range", lambda: layers().RandomRotation((-1 / 12, 1 / 12), fill_mode="nearest")),
             build("0.083", lambda: layers().RandomRotation(0.083, fill_mode="nearest"))],
    "08.2": [build("horizontal", lambda: layers().RandomFlip("horizontal"))],
    "08.3": [["cache", "shuffle", "batch", "prefetch"], ("cache", "shuffle", "batch", "prefetch"),
             np.array(["cache", "shuffle", "batch", "prefetch"]), ["cache()", "shuffle()", "batch()", "prefetch()"]],
    "08.4": [(9, 6), [9, 6], np.array([9, 6])],
}

# ------------------------------------------------------------------------------- wrong answers: key and fragment

WRONG_ANSWERS = {
    "01.1": [((30, 30, 16), "01.1.valid", "'valid' size"), ((64, 64, 16), "01.1.stride1", "stride 1"),
             ((60, 60, 16), "01.1.valid_stride1", "stride-1 'valid'"),
             ((30, 30, 3), "01.1.valid_depth", "input's depth (3)"),
             ((32, 32, 3), "01.1.depth", "number of filters"), ((16, 32, 32), "01.1.channels_first", "channels last"),
             ((32, 16, 32), "shape.order", "wrong order"),
             ((33, 32, 16), "shape.some_off_many", "height 33 (should be smaller); the width and depth are right"),
             ((33, 31, 16), "shape.some_off_one", "the depth is right"),
             ((14, 14, 512), "shape.all_off", "none of the sizes is right"),
             ((32, 32), "read.shape_axes_many", "has 2 axes"), ((32,), "read.shape_axes_one", "has 1 axis;"),
             ((32, None, 16), "read.shape_none", "None"), ("(32, 32, 16)", "read.shape_other", "not a shape"),
             (np.zeros((3, 3)), "read.shape_array", "not a shape"), ((32, 32, 0), "read.shape_positive", "positive"),
             ((32, 32.5, 16), "read.shape_size", "whole number")],
    "01.2": [(1200, "01.2.bias", "bias"), (416, "01.2.depth", "whole input depth"),
             (76, "01.2.one_filter", "one filter"),
             (16384, "01.2.outputs", "shared"), (1_245_184, "01.2.per_position", "once per"),
             (448, "01.2.kernel3", "5 x 5 here"), (1217, "core.too_high", "1,217 is too high"),
             (5_538_300, "core.too_high", "5,538,300 is too high"), (1000, "core.too_low", "1,000 is too low"),
             ("1216", "read.text_number", "write the number itself, answer = 1216"),
             ("many", "read.text", "is text"), (1216.5, "read.not_whole", "1,216.5 is not a whole number"),
             (True, "read.bool", "True/False"), ([1216, 16], "read.several", "several values"),
             (object(), "read.other", "is not a parameter count"), (float("nan"), "read.nan", "nan is not")],
    "01.5": [((5, 5, 64), "01.5.round_up", "dropped, not rounded up"), ((8, 8, 64), "01.5.no_shrink", "takes 2 off"),
             ((3, 3, 64), "01.5.mnist", "MNIST's 28x28"), ((4, 4, 1), "01.5.depth_input", "number of filters (64"),
             ((4, 4, 32), "01.5.depth_first", "64 filters, not 32"),
             ((4, 5, 64), "shape.some_off_many", "width 5 (should be smaller); the height and depth are right"),
             ((64, 4, 4), "shape.order", "wrong order"), ((4, 4), "read.shape_axes_many", "has 2 axes")],
    "01.6": [(37_504, "01.6.no_bias", "biases"), (36_928, "01.6.first_only", "Dense(64) alone"),
             (650, "01.6.last_only", "Dense(10) alone"), (93_322, "01.6.whole", "whole model"),
             (55_744, "01.6.base", "convolutional base"), (103_114, "01.6.flat_wrong", "3 · 3 · 64 = 576"),
             (40_000, "core.too_high", "40,000 is too high"), ("37578", "read.text_number", "answer = 37578")],
    "01.7": [(320, "01.7.shared", "as Keras builds it"), (194_688, "01.7.no_bias", "biases"),
             (250_880, "01.7.input_positions", "26 x 26"),
             (6_760, "01.7.one_filter", "32 at each"), (300_000, "core.too_high", "300,000 is too high")],
    "01.3": [(stride1, "01.3.shape_stride1", "stride-1"), (flipped, "01.3.flipped", "flipped"),
             (transposed_kernel, "01.3.transposed", "kernel.T"), (swapped_output, "01.3.shape_swapped", "swapped"),
             (same_padded, "01.3.shape_same", "'same' size"), (tiny_output, "01.3.shape_other", "has shape (1, 1)"),
             (off_by_one, "01.3.values", "right shape, wrong values"), (crashes, "01.3.raised", "raised IndexError"),
             (no_return, "01.3.none", "returns None"), (text_output, "01.3.unreadable", "not a 2D array"),
             (np.zeros((3, 3)), "read.function", "not a function")],
    "01.4": [(np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]), "01.4.vertical", "vertical edges"),
             ([[1, 0, -1], [0, 0, 0], [-1, 0, 1]], "01.4.blind", "does not find horizontal edges"),
             ([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], "01.4.blind", "does not find horizontal edges"),
             ([[1, 1, 1], [1, 1, 1], [1, 1, 1]], "01.4.flat", "flat gray patch gives 4.5"),
             ([[1, 1, 1], [1, 1, 1], [0, 0, 0]], "01.4.flat", "sum to 6"),
             ([[1, 0, 0], [0, 0, 0], [0, 0, -1]], "01.4.vertical_too", "vertical edges too"),
             (np.zeros((3, 3)), "01.4.zero", "all-zero"), (np.ones((2, 2)), "01.4.size", "3x3 kernel"),
             ([1, 0, -1], "read.array_axes_one", "has 1 axis"), ([[1, 2], [3]], "read.array_ragged", "same length"),
             ([[np.nan] * 3] * 3, "read.array_finite", "NaN"), ("sobel", "read.array_kind", "nested lists")],
    "02.1": [(7, "02.1.stride1", "stride 1"), (8, "02.1.second_conv", "second Conv2D"),
             (5, "02.1.convs_only", "two convolutions"), (36, "02.1.product", "do not multiply"),
             (12, "core.too_high", "12 pixels is too high"), (4, "core.too_low", "4 pixels is too low")],
    "02.2": [(295_424, "02.2.both", "both pooling"), (15_860_224, "02.2.none", "without any pooling"),
             (2_654_208, "02.2.bias", "bias"), (41_984, "02.2.channels", "every channel"),
             (3_965_440, "02.2.one_conv", "removes 2 pixels"), (3_277_312, "02.2.sizes", "check the sizes"),
             (2_654_721, "core.too_high", "2,654,721 is too high"), (2_654_719, "core.too_low", "too low")],
    "02.3": [(ops.pool2d(PATCH, 2, mode="max"), "02.3.max", "maxima"),
             (ops.pool2d(PATCH, 2, mode="avg") * 4, "02.3.sums", "sums"),
             (ops.pool2d(PATCH, 2, mode="avg").T, "02.3.swapped", "swapped"),
             (ops.pool2d(PATCH, 2, 1, mode="avg"), "02.3.stride1", "1 cell"),
             ([[2.5, 1.0], [2.0, 7.0]], "02.3.values", "mean of one 2x2 block"),
             (np.zeros((4, 4)), "02.3.size", "gives 2x2"), (np.zeros((2, 2, 2)), "read.array_axes_many", "has 3 axes")],
    "02.4": [((7, 7, 128), "02.4.valid", "'valid' pooling"), ((15, 15, 128), "02.4.stride1", "stride 1"),
             ((8, 8, 64), "02.4.depth", "depth stays 128"), ((128, 8, 8), "shape.order", "wrong order"),
             ((9, 8, 128), "shape.some_off_many", "the width and depth are right")],
    "03.1": [({"train": 2800, "validation": 600, "test": 600}, "03.1.totals", "both classes"),
             ({"train": 1000, "validation": 500, "test": 500}, "03.1.book", "book's sizes"),
             ({"train": 700, "validation": 150, "test": 150}, "03.1.halves", "half of each"),
             ({"train": 0.7, "validation": 0.15, "test": 0.15}, "03.1.fractions", "fractions"),
             ({"training": 1400, "validation": 300, "test": 300}, "03.1.keys", "keys"),
             ((1400, 300, 200), "03.1.sum", "add up to 1,900"), ((1300, 400, 300), "03.1.ratio", "ratio"),
             ("1400, 300, 300", "03.1.form", "give a dict"), ((1400, 300), "03.1.form", "give a dict")],
    "03.2": [((1400, 1700), "03.2.end", "one too far"), ((1401, 1700), "03.2.from1", "numbered from 0"),
             ((1000, 1499), "03.2.book", "book's"), ((0, 299), "03.2.from0", "after the 1,400"),
             ((2800, 3399), "03.2.both", "per class"), ((5, 9), "03.2.other", "(5, 9) is not where"),
             (("dog.1400.jpg", "dog.1699.jpg"), "03.2.dogs", "about the cats"),
             (("first", "last"), "03.2.names", "file names like"),
             ((1400, 1500, 1699), "read.count_many", "has 3 values"), ([1400], "read.count_one", "has 1 value;"),
             ((1400, "x"), "read.item", "value 2 of"), ({"first": 1400, "last": 1699}, "read.sequence", "not a pair")],
    "03.3": [("a", "03.3.a", "independent"), ("c", "03.3.c", "not confused"), ("d", "03.3.d", "nothing checks"),
             ("e", "read.choice_unknown", "choose among"), ("ab", "read.choice_one", "pick one letter"),
             (3, "read.choice_kind", "not a choice")],
    "03.4": [(200, "03.4.one_class", "one class, or of the two training folders"),
             (300, "03.4.no_test", "test folder"), (4000, "03.4.other_profile", "full profile"),
             (401, "core.too_high", "401 files is too high"), (7, "core.too_low", "7 files is too low")],
    "04.1": [(4, "04.1.index", "np.argmin"), (6, "04.1.late", "already gone up"),
             (8, "04.1.accuracy", "validation accuracy peaks"), (15, "04.1.last", "training accuracy"),
             (12, "core.too_high", "12 is too high"), (2, "core.too_low", "2 is too low"),
             (4.5, "read.not_whole", "4.5 is not a whole number; an epoch number")],
    "04.2": [(3_453_121, "04.2.baseline", "baseline's count (3,453,121)"),
             (3_379_329, "04.2.dense_same", "Dense layer shrinks"), (1_847_489, "04.2.conv_same", "fewer weights too"),
             (1_606_144, "04.2.dense_only", "Dense(512) layer alone"),
             (1_772_896, "04.2.no_bias", "without the biases"), (1_773_184, "04.2.no_output", "output layer"),
             (1_773_698, "core.too_high", "1,773,698 is too high")],
    "04.3": [((80, 62), "04.3.floor", "16 pictures"), ((80, 62.5), "04.3.fraction", "whole batch"),
             ((100, 100), "04.3.book", "book's"), ((63, 80), "04.3.swapped", "other way round"),
             ((80, 64), "04.3.second", "80 is right for batch 25"), ((70, 50), "04.3.other", "(70, 50): divide"),
             (80, "04.3.form", "pair"), ((80, 63, 1), "04.3.form", "pair"), ({"a": 80}, "04.3.form", "pair"),
             (("80", 63), "read.text_number", "write the number itself")],
    "04.4": [(1, "04.4.animal", "alphabetical"), ("puppies", "04.4.name", "'puppies' is a folder name"),
             ("0", "04.4.text_number", "'0' is text (in quotes): write the number itself, answer = 0"),
             (2, "04.4.range", "0 or 1, not 2"), (True, "read.bool", "True/False")],
    "05.1": [(build("nearest", datagen, fill_mode="nearest"), "05.1.slips_one", "fill_mode='constant'"),
             (build("radians", datagen, rotation_range=math.radians(20)), "05.1.slips_one", "in degrees"),
             (build("30 degrees", datagen, rotation_range=30), "05.1.slips_one", "rotation_range is 30;"),
             (build("pixels", datagen, width_shift_range=15), "05.1.slips_one", "counts pixels"),
             (build("width 0.2", datagen, width_shift_range=0.2), "05.1.slips_one", "the horizontal shift"),
             (build("vertical shift", datagen, width_shift_range=0.0, height_shift_range=0.1), "05.1.slips_many",
              "2 settings to fix: the horizontal shift is width_shift_range=0.1 (10 % of the width); there is no "
              "vertical shift: leave height_shift_range at 0 (width_shift_range is the horizontal one)."),
             (build("both shifts", datagen, height_shift_range=0.1), "05.1.slips_one",
              "1 setting to fix: there is no vertical shift: leave height_shift_range at 0."),
             (build("zoom", datagen, zoom_range=1.1), "05.1.slips_one", "one number z"),
             (build("no flip", datagen, horizontal_flip=False), "05.1.slips_one", "horizontal_flip=True"),
             (build("vertical flip", datagen, vertical_flip=True), "05.1.slips_one", "upside down"),
             (build("white", datagen, cval=255), "05.1.slips_one", "cval=255 fills the uncovered pixels with white"),
             (build("gray", datagen, cval=128), "05.1.slips_one", "cval=128 fills the uncovered pixels with gray"),
             (build("below black", datagen, cval=-1), "05.1.slips_one", "below black"),
             (build("rescale 255", datagen, rescale=255), "05.1.slips_one", "rescale multiplies"),
             (build("no rescale", datagen, rescale=None), "05.1.slips_one", "rescale=1./255"),
             (build("shear", datagen, shear_range=11.5), "05.1.slips_one", "remove shear_range"),
             (build("interpolation", datagen, interpolation_order=0), "05.1.differ", "compare interpolation_order"),
             (build("a subclass", datagen_subclass), "05.1.differ_unknown", "plain ImageDataGenerator"),
             ({"rotation_range": 20}, "05.1.dict", "dict of settings"),
             (3, "05.1.kind", "int is not an ImageDataGenerator")],
    "05.2": [({"b"}, "05.2.wrong", "c hurts too"), ({"a", "b", "c"}, "05.2.wrong", "a is harmless"),
             ({"c", "d"}, "05.2.wrong", "b hurts too: a mirrored"), ({"e"}, "read.choice_unknown", "choose among")],
    "05.3": [(0.2, "05.3.as_degrees", "read as degrees"), (math.radians(0.2), "05.3.wrong_way", "wrong way"),
             (36, "05.3.no_pi", "forgot π"), (72, "05.3.full_turn", "2π radians"),
             (20, "05.3.more", "20 degrees is more than"), (11, "05.3.less", "11 degrees is less than"),
             ("11.46", "read.text_number", "write the number itself")],
    "05.4": [(1, "05.4.one", "half of the draws"), (4, "05.4.four", "vertical_flip"),
             (math.inf, "05.4.infinite", "coin toss"), (np.inf, "05.4.infinite", "coin toss"),
             (3, "05.4.many", "3 is too many"), (0, "05.4.few", "0 is too few")],
    "06.1": [(build("no Dropout", mnist, None), "06.1.none", "no Dropout"),
             (build("after the output", mnist, 8), "06.1.output", "output layer"),
             (build("between Dense", mnist, 7), "06.1.dense_dense", "between the two Dense"),
             (build("rate 0.3", mnist, 6, rate=0.3), "06.1.rate", "not 0.3"),
             (build("on the feature map", mnist, 5), "06.1.feature_map", "last feature map"),
             (build("first", mnist, 0), "06.1.elsewhere", "between the input and Conv2D"),
             (build("two", mnist, 6, dropouts=2), "06.1.several", "2 Dropout layers"),
             (build("Dense(512)", mnist, 6, dense=512), "06.1.dense512", "notebook 02's"),
             (build("Dense(128)", mnist, 6, dense=128), "06.1.layers", "layer 7 is Dense(128, relu)"),
             (build("Conv2D(16)", mnist, 6, filters=16), "06.1.layers", "layer 1 is Conv2D(16"),
             (build("cats and dogs input", mnist, 6, input_shape=(150, 150, 3)), "06.1.input", "28x28x1"),
             (build("a layer", lambda: layers().Dropout(0.5)), "06.1.kind", "not a Keras model")],
    "06.2": [(3136, "06.2.half", "no weights"), (6272, "06.2.features", "all still reach"),
             (1, "06.2.rate", "setting"), (3_453_121, "06.2.whole", "whole model"),
             (-1_605_632, "06.2.removed", "keeps all its weights"), (5, "core.too_high", "5 is too high"),
             (-5, "core.too_low", "-5 is too low")],
    "06.3": [("a", "06.3.a", "no new information"), ("c", "06.3.c", "scored on them"),
             ("d", "06.3.d", "changes the training data")],
    "06.4": [({0, 1}, "06.4.unscaled", "scales the kept values"), ({1}, "06.4.inference", "inference"),
             ({0, 0.5}, "06.4.down", "scaled up"), ({0}, "06.4.zeros", "only about half"),
             ({0, 1, 2}, "06.4.three", "none stays at 1"), ({0, 3}, "06.4.other", "{0, 3}: each value"),
             ("0, 2", "06.4.form", "as a set"), ({"a": 0}, "06.4.form", "as a set")],
    "06.5": [("a", "06.5.a", "training data only"), ("c", "06.5.c", "makes no pictures"),
             ("d", "06.5.d", "does not make training faster"),
             ("Dropout creates new variations of the same photos so that the model overfits more",
              "read.choice_unknown", "choose among")],
    "07.1": [((36, 36, 64), "07.1.other_layer", "layer 4"), ((72, 72, 64), "07.1.other_layer", "layer 3"),
             ((17, 17, 128), "07.1.other_layer", "layer 6"), ((36, 36, 128), "07.1.input", "that layer's input"),
             ((34, 34, 64), "07.1.filters", "own number of filters"),
             ((33, 34, 128), "shape.some_off_many", "the width and channels are right")],
    "07.2": [("b", "07.2.b", "38x38"), ("c", "07.2.c", "too coarse"), ("d", "07.2.d", "layers differ")],
    "07.3": [((7, 7), "07.3.pooled", "last pooling"), ((150, 150), "07.3.resized", "resizing"),
             ((15, 15, 128), "07.3.channels", "no channel axis"), ((148, 148), "07.3.first", "first Conv2D"),
             ((14, 14), "07.3.vgg16", "VGG16"), ((15, 14), "shape.some_off_one", "the height is right"),
             ((15,), "read.shape_axes_one", "(15,) has 1 axis; the answer has 2")],
    "07.4": [(any_zero, "07.4.some_zero", "some zero"), (blank_share, "07.4.share", "share"),
             (blank_rows, "07.4.axis", "wrong axis"), (threshold, "07.4.threshold", "however weakly"),
             (is_close, "07.4.threshold", "with no threshold"), (blank_many, "07.4.other", "says 99"),
             (blank_text, "07.4.not_number", "returned '2' (str), which is not a number"),
             (lambda activation: None, "07.4.none", "returns None"),
             (lambda activation: activation[99], "07.4.raised", "raised IndexError"),
             (3, "read.function", "not a function")],
    "08.1": [(build("0.3", lambda: layers().RandomRotation(0.3)), "08.1.percent", "108 degrees"),
             (build("30 / 180", lambda: layers().RandomRotation(30 / 180)), "08.1.double", "60 degrees"),
             (build("radians", lambda: layers().RandomRotation(math.radians(30))), "08.1.radians", "not radians"),
             (build("0.08", lambda: layers().RandomRotation(0.08, fill_mode="nearest")), "08.1.angle",
              "up to 28.8 degrees either way"),
             (build("one way", lambda: layers().RandomRotation((0, 30 / 360))), "08.1.asymmetric",
              "turns by 0° to 30°"),
             (build("reflect", lambda: layers().RandomRotation(30 / 360)), "08.1.fill", "fill_mode='reflect'"),
             (build("zoom", lambda: layers().RandomZoom(0.1)), "08.1.other_layer", "does not rotate"),
             (build("model", lambda: __import__("keras").Sequential([layers().RandomRotation(30 / 360)])),
              "08.model", "Sequential model"),
             (30 / 360, "08.kind", "not a Keras layer")],
    "08.2": [(build("default", lambda: layers().RandomFlip()), "08.2.both", "both ways"),
             (build("vertical", lambda: layers().RandomFlip("vertical")), "08.2.vertical", "upside down"),
             (build("rotation", lambda: layers().RandomRotation(0.1)), "08.2.other_layer", "does not flip")],
    "08.3": [(["shuffle", "cache", "batch", "prefetch"], "08.3.replayed", "same order"),
             (["cache", "batch", "shuffle", "prefetch"], "08.3.neighbours", "runs of neighbours"),
             (["cache", "shuffle", "prefetch", "batch"], "08.3.prefetch", "prefetch goes last"),
             (["cache", "shuffle"], "08.3.names", "each of"), ("cache, shuffle, batch, prefetch", "08.3.form",
                                                               "give a list")],
    "08.4": [((9, 9), "08.4.last", "restore_best_weights"), ((8, 5), "08.4.from0", "count epochs from 1"),
             ((12, 6), "08.4.all", "stops early"), ((6, 6), "08.4.no_wait", "waits 3 epochs"),
             ((8, 6), "08.4.one_short", "counting from the epoch after"), ((10, 6), "08.4.one_long", "not 4"),
             ((7, 4), "08.4.first_low", "new low"), ((11, 2), "08.4.other", "(11, 2): find the lowest"),
             ({"stopped": 9, "best": 6}, "read.sequence", "is not a pair"),
             ((9, "six"), "read.item", "value 2 of a pair")],
}

# Keys rendered as parts of other messages: reached when their text shows in some row's message.
PARTS = {"01.3.where", "07.4.where", "06.1.nothing", "06.1.the_input", "05.2.why_a", "05.2.why_b", "05.2.why_c",
         "05.2.why_d", "05.2.hurts", "05.2.harmless", "unit.pixels", "unit.files", "shape.larger", "shape.smaller",
         "shape.example2", "shape.example3"}
# Keys reached by tests of their own (tests/test_exercises.py and below).
OWN_TESTS = {"03.4.no_data", "03.4.stale", "core.none", "core.placeholder", "core.checker_error"}

IDS = [ex.id for ex in exercises.catalog()]


def rows(table):
    """pytest parameters (exercise id, answer) from RIGHT, (exercise id, answer, key, fragment) from WRONG_ANSWERS."""
    return [pytest.param(ex_id, *(row if table is WRONG_ANSWERS else (row,)), id=f"{ex_id}-{n}")
            for ex_id, found in table.items() for n, row in enumerate(found)]


def test_every_exercise_has_its_tables():
    missing = [ex_id for ex_id in IDS if ex_id not in RIGHT or ex_id not in WRONG_ANSWERS]
    assert not missing, f"add rows for {missing} to RIGHT and WRONG_ANSWERS"
    assert set(RIGHT) | set(WRONG_ANSWERS) <= set(IDS)
    for ex_id in IDS:
        assert len(RIGHT[ex_id]) >= 2 or ex_id == "08.2", ex_id  # one RandomFlip('horizontal') is the one form
        assert len(WRONG_ANSWERS[ex_id]) >= 3, ex_id


@pytest.mark.parametrize("ex_id,answer", rows(RIGHT))
def test_right_answer_in_any_natural_form(ex_id, answer, quick_split):
    result = exercises.feedback(ex_id, make(answer))
    assert result.status == CORRECT, result
    assert result.key.startswith(f"{ex_id}.")


@pytest.mark.parametrize("ex_id,answer,key,fragment", rows(WRONG_ANSWERS))
def test_wrong_answer_gets_its_message(ex_id, answer, key, fragment, quick_split):
    result = exercises.feedback(ex_id, make(answer))
    assert result.status in (WRONG, UNREADABLE, UNANSWERED), result
    assert result.key == key, result
    assert fragment in result.message, result.message


def all_feedback():
    """Every row's feedback (right and wrong), computed once per test session."""
    if not hasattr(all_feedback, "cache"):
        found = []
        for table in (RIGHT, WRONG_ANSWERS):
            for ex_id, entries in table.items():
                for row in entries:
                    answer = row[0] if table is WRONG_ANSWERS else row
                    found.append(exercises.feedback(ex_id, make(answer)))
        all_feedback.cache = found
    return all_feedback.cache


def test_every_message_is_reached_by_some_answer(quick_split):
    """No message that can never show: every key an exercise registers comes out of some row (a part of a message,
    such as one of 05.1's settings, when its text shows in some row's message)."""
    found = all_feedback()
    reached = {f.key for f in found}
    texts = " | ".join(f.message for f in found)
    for key, template in messages.MESSAGES.items():
        static = max(re.split(r"\{[^}]*\}", template), key=len)
        if key not in reached and len(static) >= 15 and static in texts:
            reached.add(key)
    exercise_keys = {k for k in messages.MESSAGES if re.match(r"(\d\d\.\d\.|\d\d\.|shape\.|read\.|core\.)", k)}
    missing = sorted(exercise_keys - reached - PARTS - OWN_TESTS)
    assert not missing, f"no row of the tables reaches {missing}"


def test_messages_are_sentences_without_scientific_notation(quick_split):
    for result in all_feedback():
        text = result.message
        assert text.strip(), result
        assert not re.search(r"\de[+-]\d", text), text  # 5.5383e+06
        assert ".." not in text.replace("...", ""), text
        assert not re.search(r"\b1 (axes|values|settings)\b", text), text
        assert not re.search(r"\{[a-z_]+\}", text), text  # every field filled in


def test_every_template_names_only_fields_it_is_given():
    """Templates are str.format strings; a translation must keep their fields (checked by translate)."""
    pieces = ("unit.", "plots.", "widgets.", "references.", "banner.")  # pieces of other texts: may keep a space
    for key, template in messages.MESSAGES.items():
        assert key.startswith(pieces) or template == template.strip(), key  # units start with their space
        fields = re.sub(r"\{\{|\}\}", "", template)  # doubled braces are literal braces
        assert not re.search(r"\{[^}]*\{", fields), key


def test_translation_replaces_a_message_by_key():
    messages.translate("xx", {"01.2.bias": "편향 {truth}"})
    messages.LANGUAGE[0] = "xx"
    try:
        result = exercises.feedback("01.2", 1200)
        assert result.key == "01.2.bias" and result.message.startswith("편향")
        assert exercises.feedback("01.2", 416).message == messages.say("01.2.depth")  # falls back to English
    finally:
        messages.LANGUAGE[0] = None
        messages.TRANSLATIONS.pop("xx")
    with pytest.raises(KeyError):
        messages.translate("xx", {"no.such.key": "x"})


def test_numbers_read_as_a_learner_writes_them():
    assert [messages.num(v) for v in (5_538_300, 1216.0, 1216.5, 0.00001, 28.8, 0.083333333)] == [
        "5,538,300", "1,216", "1,216.5", "0.00001", "28.8", "0.08333"]


def test_03_4_counts_the_files_on_disk(tiny_split):
    quick = config.get_profile("quick")
    result = exercises.feedback("03.4", 2 * quick.per_class)  # the profile says 400, the disk holds 28
    assert result.status == WRONG and result.key == "03.4.stale" and "on disk holds 28" in result.message
    assert exercises.feedback("03.4", 28).correct


def test_03_4_without_data_says_what_to_do():
    result = exercises.feedback("03.4", 400)
    assert result.status == UNREADABLE and result.key == "03.4.no_data" and "make data" in result.message


def test_angles_share_one_tolerance():
    """05.3 and 08.1 both ask for an angle in degrees: the same tolerance either way."""
    tol = core.ANGLE_TOLERANCE
    rotation = layers().RandomRotation
    assert exercises.feedback("05.3", math.degrees(0.2) + 0.9 * tol).correct
    assert not exercises.feedback("05.3", math.degrees(0.2) + 1.1 * tol).correct
    assert exercises.feedback("08.1", rotation((30 + 0.9 * tol) / 360, fill_mode="nearest")).correct
    assert not exercises.feedback("08.1", rotation((30 + 1.1 * tol) / 360, fill_mode="nearest")).correct


def test_korean_feedback_for_every_row_of_the_tables(quick_split, monkeypatch):
    """Under COURSE_LANG=ko every row gets the same verdict and message key, the message in Korean, filled in."""
    english = all_feedback()
    monkeypatch.setenv("COURSE_LANG", "ko")
    found = []
    for table in (RIGHT, WRONG_ANSWERS):
        for ex_id, entries in table.items():
            for row in entries:
                found.append(exercises.feedback(ex_id, make(row[0] if table is WRONG_ANSWERS else row)))
    assert [(f.status, f.key) for f in found] == [(f.status, f.key) for f in english]
    for ko, en in zip(found, english):
        assert re.search("[가-힣]", ko.message) and ko.message != en.message, (ko.key, ko.message)
        assert not re.search(r"\{[a-z_]+\}", ko.message), ko.message  # every field filled in
