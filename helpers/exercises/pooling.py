"""Exercises for notebook 02 (pooling): receptive field, the Dense layer without pooling, average pooling, odd sizes."""
from functools import cache

import numpy as np

from .. import ops
from .answers import as_array, as_int, as_shape
from .core import Unreadable, exercise, first_match, judge_number, judge_shape, right, same, wrong
from .messages import messages, num

NOTEBOOK = "02"
FILE = "02_pooling.ipynb"
# What the exercises and their worked solutions use: the first cell of the notebook's exercises.
IMPORTS = """import numpy as np
from keras import layers

from helpers import exercises, ops"""
INTRO = """## Exercises

Four exercises on 풀링 (pooling) and what it does to the network's shapes. Replace each `...` with your answer
and run the cell: `exercises.check` says whether it is right and, if not, what your answer reveals.
`exercises.hint("02.1")` gives a hint, `exercises.solution("02.1")` the worked solution (all of them are in
`solutions/02_pooling_solutions.ipynb`)."""

STACK = [(3, 1), (2, 2), (3, 1), (2, 2)]  # Conv2D 3x3, MaxPooling2D 2x2, Conv2D 3x3, MaxPooling2D 2x2
PATCH = np.array([[1, 3, 2, 1],
                  [4, 2, 0, 1],
                  [5, 1, 9, 8],
                  [0, 2, 7, 6]], dtype="float32")  # the notebook's 4x4 map


messages({
    "what.02.width": "a width in pixels (a whole number)",
    "what.02.params": "a parameter count (a whole number)",
    "what.02.array": "a 2D array",
    "unit.pixels": " pixels",
    "02.1.right": "{truth} pixels: 1 → 3 (conv) → 4 (pool, steps now 2 pixels) → 8 (conv: + 2·2) → 10 (pool: + 1·2). "
                  "ops.receptive_field gives the same.",
    "02.1.stride1": "you added (k − 1) for every layer as if all had stride 1. After a 2x2 pooling, one step of the "
                    "next layer moves 2 input pixels, so its 3x3 window adds (3 − 1)·2.",
    "02.1.second_conv": "that is the field after the second Conv2D: the last pooling still widens it, by (2 − 1) "
                        "times the 2 pixels one of its steps covers.",
    "02.1.convs_only": "that counts the two convolutions only: pooling windows widen the field too, and they "
                       "multiply the step of every layer after them.",
    "02.1.product": "window sizes do not multiply: each layer adds (k − 1) times the product of the strides before "
                    "it.",
    "02.2.right": "{truth}: 28 → 26 → 13 → 11 → 9, so Flatten gives 9·9·64 = 5,184 inputs and Dense(512) has "
                  "(5,184 + 1)·512 weights. One pooling less multiplies the Dense layer by 9.",
    "02.2.both": "that is with both pooling layers (3x3x64 = 576 inputs); this model keeps only the first.",
    "02.2.none": "that is the model without any pooling, the book's 15.8 million; this one keeps the first pooling.",
    "02.2.bias": "Dense also has one bias per unit: + 512.",
    "02.2.channels": "Flatten keeps every channel: the last map has 64 of them, 9 x 9 x 64 inputs.",
    "02.2.one_conv": "each 3x3 'valid' Conv2D removes 2 pixels: 26 → 13 (pool) → 11 → 9, not 11.",
    "02.2.sizes": "check the sizes: 28 → 26 (conv) → 13 (pool) → 11 (conv) → 9 (conv).",
    "02.3.right": "{truth}: each value is the mean of one 2x2 window, as AveragePooling2D computes. The 9 in the "
                  "bottom-right window is diluted to 7.5 where max pooling keeps it.",
    "02.3.stride1": "a 3x3 output means the window moved 1 cell at a time; pooling's stride defaults to its size, so "
                    "a 2x2 pooling moves by 2 and gives 2x2.",
    "02.3.size": "the answer has shape {shape}; 2x2 pooling of a 4x4 map gives 2x2",
    "02.3.max": "those are the maxima of each window: that is MaxPooling2D. Average pooling keeps the mean of the 4 "
                "values.",
    "02.3.sums": "those are the sums of each window: divide by the 4 cells.",
    "02.3.swapped": "rows and columns are swapped: the top-right output is the mean of the top-right window.",
    "02.3.values": "some values are off: each output is the mean of one 2x2 block, e.g. the top-left block "
                   "(1, 3, 4, 2) gives 2.5.",
    "02.4.right": "{truth}: 'same' pads the odd side so that every row and column is used, ⌈15 / 2⌉ = 8, and pooling "
                  "keeps the depth. Keras says the same.",
    "02.4.valid": "that is 'valid' pooling, the default, which drops the last row and column. With 'same' the odd "
                  "row and column get windows of their own: ⌈15 / 2⌉ = 8.",
    "02.4.stride1": "'same' keeps the size only at stride 1; a 2x2 pooling moves by 2, so 'same' gives ⌈15 / 2⌉.",
    "02.4.depth": "pooling works on each channel separately: the depth stays 128.",
})


def check_field(answer):
    """02.1: the receptive field of conv-pool-conv-pool, against ops.receptive_field (tested by brute force)."""
    value = as_int(answer, "what.02.width")
    truth = ops.receptive_field(STACK)
    mistakes = [
        (1 + sum(k - 1 for k, _ in STACK), "02.1.stride1"),
        (ops.receptive_field(STACK[:3]), "02.1.second_conv"),
        (ops.receptive_field([(3, 1), (3, 1)]), "02.1.convs_only"),
        (int(np.prod([k for k, _ in STACK])), "02.1.product"),
    ]
    return judge_number(value, truth, "02.1.right", mistakes, {"truth": truth}, "unit.pixels")


@cache
def mnist_dense_params(pools=(True, True)):
    """Parameters of the Dense(512) on the MNIST convnet of listing 5.1 with the chosen MaxPooling2D layers."""
    import keras
    from keras import layers
    stack = [keras.Input(shape=(28, 28, 1)), layers.Conv2D(32, (3, 3), activation="relu")]
    stack += [layers.MaxPooling2D((2, 2))] if pools[0] else []
    stack += [layers.Conv2D(64, (3, 3), activation="relu")]
    stack += [layers.MaxPooling2D((2, 2))] if pools[1] else []
    stack += [layers.Conv2D(64, (3, 3), activation="relu"), layers.Flatten(), layers.Dense(512)]
    return keras.Sequential(stack).layers[-1].count_params()


def check_dense(answer):
    """02.2: Dense(512) parameters with only the first pooling, against a Keras model; exact."""
    value = as_int(answer, "what.02.params")
    truth = mnist_dense_params((True, False))
    mistakes = [
        (mnist_dense_params((True, True)), "02.2.both"),
        (mnist_dense_params((False, False)), "02.2.none"),
        (truth - 512, "02.2.bias"),
        (9 * 9 * 512 + 512, "02.2.channels"),
        ((11 * 11 * 64 + 1) * 512, "02.2.one_conv"),
        ((10 * 10 * 64 + 1) * 512, "02.2.sizes"),
    ]
    return judge_number(value, truth, "02.2.right", mistakes, {"truth": num(truth)})


def check_average(answer):
    """02.3: AveragePooling2D(2) of the notebook's 4x4 map, against Keras."""
    from keras import layers
    got = as_array(answer, 2, "what.02.array")
    truth = np.asarray(layers.AveragePooling2D((2, 2))(PATCH[None, :, :, None]))[0, :, :, 0]
    if got.shape != truth.shape:
        if got.shape == (3, 3):
            return wrong("02.3.stride1")
        raise Unreadable("02.3.size", shape=got.shape)
    if same(got, truth):
        return right("02.3.right", truth=[[num(v) for v in row] for row in truth.tolist()])
    found = first_match(got, [
        (ops.pool2d(PATCH, 2, mode="max"), "02.3.max"),
        (ops.pool2d(PATCH, 2, mode="avg") * 4, "02.3.sums"),
        (truth.T, "02.3.swapped"),
    ], tol=1e-6)
    return wrong(found or "02.3.values")


@cache
def pool_shape(padding):
    """Keras' output shape of MaxPooling2D((2, 2), padding=padding) on a 15x15x128 map."""
    from keras import layers
    shape = layers.MaxPooling2D((2, 2), padding=padding).compute_output_shape((None, 15, 15, 128))
    return tuple(int(d) for d in shape[1:])


def check_odd(answer):
    """02.4: 'same' max pooling of an odd-sized map, against Keras."""
    shape = as_shape(answer, 3)
    truth = pool_shape("same")
    mistakes = [
        (pool_shape("valid"), "02.4.valid"),
        ((15, 15, 128), "02.4.stride1"),
        ((8, 8, 64), "02.4.depth"),
    ]
    return judge_shape(shape, truth, "02.4.right", mistakes, {"truth": truth})


exercise(
    id="02.1", title="Receptive field after conv-pool-conv-pool", kind="a number",
    prompt="""### Exercise 02.1: receptive field after conv-pool-conv-pool

A unit at the output of `Conv2D(3x3)` → `MaxPooling2D(2x2)` → `Conv2D(3x3)` → `MaxPooling2D(2x2)` (convolutions
with stride 1 and 'valid' padding, poolings with stride 2) depends on a square window of the input. How many input
pixels wide is it? Answer with a whole number.""",
    hint="Walk through the layers keeping two numbers: the window width (starts at 1) and the step in input pixels "
         "between neighbouring units (starts at 1). A layer with kernel k adds (k − 1)·step; a stride multiplies "
         "the step.",
    explanation="""Follow the window layer by layer, starting from a single input pixel: width 1, and a step of
1 pixel between neighbouring units. Conv2D 3x3 makes the width 1 + 2·1 = 3; MaxPooling2D 2x2 adds (2 − 1)·1 = 1 → 4
and doubles the step to 2; the second Conv2D adds (3 − 1)·2 = 4 → 8; the second pooling adds (2 − 1)·2 = 2 → 10.
Without the pooling layers, two 3x3 convolutions see only 5x5: pooling is what lets deeper layers see larger parts
of the picture.""",
    solution_code="""width, step = 1, 1
for k, stride in [(3, 1), (2, 2), (3, 1), (2, 2)]:
    width += (k - 1) * step
    step *= stride
answer = width  # = ops.receptive_field(...)""",
    checker=check_field)

exercise(
    id="02.2", title="The Dense layer with one pooling less", kind="a number",
    prompt="""### Exercise 02.2: the Dense layer with one pooling less

Take the notebook's `mnist_convnet(pooling=True)` and remove only the **second** `MaxPooling2D`: `Conv2D(32)` →
`MaxPooling2D` → `Conv2D(64)` → `Conv2D(64)` → `Flatten` → `Dense(512)`, on 28x28x1 digits. How many parameters
does the `Dense(512)` layer have?""",
    hint="Follow the side of the feature map: a 3x3 'valid' convolution removes 2, a 2x2 pooling halves (rounding "
         "down). Then Dense has (inputs + 1) · units parameters.",
    explanation="""The side goes 28 → 26 (conv) → 13 (pool) → 11 (conv) → 9 (conv), so Flatten gives 9·9·64 = 5,184
numbers and `Dense(512)` has (5,184 + 1)·512 = 2,654,720 parameters: 9 times more than with both poolings
(3·3·64 = 576 inputs, 295,424 parameters), and still far from the 15.8 million without any.""",
    solution_code="""side = 28
for step in ["conv", "pool", "conv", "conv"]:
    side = ops.conv_output_size(side, 3, 1) if step == "conv" else ops.conv_output_size(side, 2, 2)
answer = (side * side * 64 + 1) * 512""",
    checker=check_dense)

exercise(
    id="02.3", title="Average pooling by hand", kind="a 2x2 array",
    prompt="""### Exercise 02.3: average pooling by hand

The notebook max-pooled this 4x4 map (`exercises.material("02.3")` gives it as an array):

```
1 3 2 1
4 2 0 1
5 1 9 8
0 2 7 6
```

What does `AveragePooling2D((2, 2))` give? Answer with a 2x2 array (or nested lists), computed by hand.""",
    hint="Cut the map into four 2x2 blocks that do not overlap; each output is the mean of one block.",
    explanation="""A 2x2 pooling moves by 2 (its stride defaults to its size), so the four blocks do not overlap.
Their means are (1 + 3 + 4 + 2) / 4 = 2.5, (2 + 1 + 0 + 1) / 4 = 1, (5 + 1 + 0 + 2) / 4 = 2 and
(9 + 8 + 7 + 6) / 4 = 7.5. Max pooling keeps 4, 2, 5 and 9: it keeps the strongest evidence where the average
dilutes it.""",
    solution_code="""answer = np.array([[(1 + 3 + 4 + 2) / 4, (2 + 1 + 0 + 1) / 4],
                   [(5 + 1 + 0 + 2) / 4, (9 + 8 + 7 + 6) / 4]])""",
    checker=check_average, material=lambda: PATCH.copy())

exercise(
    id="02.4", title="Pooling an odd-sized map with 'same' padding", kind="a shape",
    prompt="""### Exercise 02.4: pooling an odd-sized map with 'same' padding

The baseline's last `Conv2D` outputs a 15x15x128 feature map, which `MaxPooling2D((2, 2))` turns into 7x7x128.
What shape does `MaxPooling2D((2, 2), padding="same")` give instead? Answer with a tuple `(height, width, depth)`.""",
    hint="The formula for 'same' is the convolution's: ⌈n / s⌉. Pooling does not mix channels.",
    explanation="""'valid' pooling (the default) only uses whole windows: ⌊(15 − 2) / 2⌋ + 1 = 7, and the last row
and column are never looked at. 'same' pads so that every row and column is in some window: ⌈15 / 2⌉ = 8. Pooling
works on each channel separately, so the depth stays 128.""",
    solution_code="""answer = (8, 8, 128)  # ceil(15 / 2) = 8""",
    checker=check_odd)
