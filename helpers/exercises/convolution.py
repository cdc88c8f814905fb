"""Exercises for notebook 01 (convolution): output shapes, parameter counts, a strided convolution, an edge kernel."""
from functools import cache

import numpy as np

from .. import ops
from .answers import as_array, as_callable, as_int, as_shape, call
from .core import Unreadable, exercise, judge_number, judge_shape, right, same, unanswered, wrong
from .messages import messages, num, say

NOTEBOOK = "01"
FILE = "01_convolution.ipynb"
# What the exercises and their worked solutions use: the first cell of the notebook's exercises.
IMPORTS = """import numpy as np
from keras import layers

from helpers import exercises, ops"""
INTRO = """## Exercises

Seven exercises on this notebook: 01.1-01.4 on convolution, 01.5-01.7 on the first convnet (listings 5.1 and
5.2). Each has a cell: replace the `...` with your answer and run the cell; `exercises.check` tells you at once
whether it is right, and if not, what your answer reveals. `exercises.hint("01.1")` gives a hint,
`exercises.solution("01.1")` the worked solution (all of them are in `solutions/01_convolution_solutions.ipynb`).

Key terms: 합성곱 (convolution), 특성 맵 (feature map), 패딩 (padding), 스트라이드 (stride)."""

INPUT = (64, 64, 3)


@cache
def conv_shape(filters=16, kernel_size=5, strides=2, padding="same", input_shape=INPUT):
    """Keras' output shape (no batch axis) of a Conv2D on an input of input_shape."""
    from keras import layers
    layer = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding)
    return tuple(int(d) for d in layer.compute_output_shape((None,) + input_shape)[1:])


@cache
def conv_param_count(filters=16, kernel_size=5, c_in=3):
    """Keras' parameter count of a Conv2D built on c_in input channels."""
    from keras import layers
    layer = layers.Conv2D(filters, kernel_size)
    layer.build((None, 32, 32, c_in))
    return layer.count_params()


messages({
    "what.01.params": "a parameter count (a whole number)",
    "01.1.right": "{truth}: 'same' padding keeps 64, the stride of 2 halves it (⌈64 / 2⌉ = 32), and the depth is the "
                  "number of filters. Keras' Conv2D says the same.",
    "01.1.valid": "that is the 'valid' size, ⌊(64 − 5) / 2⌋ + 1 = 30. With padding='same' the border is padded so "
                  "that only the stride shrinks the map: ⌈64 / 2⌉ per side.",
    "01.1.stride1": "that is the size with stride 1: 'same' padding keeps 64, and then the stride of 2 moves the "
                    "window 2 pixels at a time, which halves it.",
    "01.1.valid_stride1": "that is a stride-1 'valid' convolution (64 − 5 + 1 = 60): here the padding is 'same' and "
                          "the stride 2.",
    "01.1.valid_depth": "that is the 'valid' size (30) and the input's depth (3): with padding='same' each side is "
                        "⌈64 / 2⌉ = 32, and the depth of a Conv2D's output is its number of filters, 16.",
    "01.1.depth": "height and width are right, but the depth of a Conv2D's output is its number of filters (16), not "
                  "the input's 3 channels.",
    "01.1.channels_first": "Keras puts the channels last: (height, width, depth).",
    "01.2.right": "{truth} = (5·5·3 + 1)·16, as Keras counts: stride and padding change the output's size, not the "
                  "number of weights.",
    "01.2.bias": "those are the weights only: each of the 16 filters also has one bias (+ 16).",
    "01.2.depth": "each filter spans the whole input depth: 5 x 5 x 3 weights per filter, not 5 x 5.",
    "01.2.one_filter": "that is one filter; the layer has 16.",
    "01.2.outputs": "that is the number of values in the output feature map. Weights are shared by every position, "
                    "so neither the stride, the padding nor the picture size changes the count.",
    "01.2.per_position": "weights are shared by every position: count them once, not once per output position.",
    "01.2.kernel3": "the kernel is 5 x 5 here (kernel_size=5), not 3 x 3.",
})


def check_shape(answer):
    """01.1: the Conv2D's output shape against Keras, with the shapes of typical slips."""
    shape = as_shape(answer, 3)
    truth = conv_shape()
    mistakes = [
        (conv_shape(padding="valid"), "01.1.valid"),
        (conv_shape(strides=1), "01.1.stride1"),
        (conv_shape(strides=1, padding="valid"), "01.1.valid_stride1"),
        (conv_shape(padding="valid")[:2] + (INPUT[2],), "01.1.valid_depth"),
        (truth[:2] + (INPUT[2],), "01.1.depth"),
        ((truth[2],) + truth[:2], "01.1.channels_first"),
    ]
    return judge_shape(shape, truth, "01.1.right", mistakes, {"truth": truth})


def check_params(answer):
    """01.2: the Conv2D's parameter count against Keras."""
    value = as_int(answer, "what.01.params")
    truth = conv_param_count()
    k, c_in, f = 5, 3, 16
    mistakes = [
        (k * k * c_in * f, "01.2.bias"),
        (k * k * f + f, "01.2.depth"),
        (k * k * c_in + 1, "01.2.one_filter"),
        (32 * 32 * f, "01.2.outputs"),
        ((k * k * c_in + 1) * f * 32 * 32, "01.2.per_position"),
        (3 * 3 * c_in * f + f, "01.2.kernel3"),
    ]
    return judge_number(value, truth, "01.2.right", mistakes, {"truth": num(truth)})


# ------------------------------------------------------------------------------- 01.3 stride-2 convolution

CONV_CASES = [((7, 7), (3, 3)), ((8, 9), (3, 3)), ((10, 6), (2, 4)), ((5, 5), (5, 5))]

messages({
    "what.01.output": "the 2D output",
    "01.3.right": "on 4 hidden images (some not square, one as small as its kernel) your function gives what Keras' "
                  "Conv2D(1, kernel.shape, strides=2) gives.",
    "01.3.raised": "on {where} your function raised {error}",
    "01.3.none": "conv2d_stride2 returns None: write its body, ending with `return` and the output.",
    "01.3.unreadable": "on {where} your function returned something that is not a 2D array: {why}.",
    "01.3.where": "a {image} image and a {kernel} kernel",
    "01.3.flipped": "you flipped the kernel (a textbook convolution); Keras, like every deep learning library, "
                    "slides it as it is (a cross-correlation).",
    "01.3.transposed": "rows and columns of the kernel are swapped somewhere (you used kernel.T, or kernel[j, i]): "
                       "output (i, j) multiplies image[2·i + a, 2·j + b] by kernel[a, b].",
    "01.3.values": "right shape, wrong values: on {where}, output ({i}, {j}) is {got} where Keras gives {want}. That "
                   "output is the sum of the window starting at row {row}, column {col}, times the kernel.",
    "01.3.shape_stride1": "on {where}, your output {got} has the size of a stride-1 convolution: move the window 2 "
                          "cells at a time.",
    "01.3.shape_swapped": "on {where}, your output {got} has height and width swapped; it should be {want}.",
    "01.3.shape_same": "on {where}, your output {got} has the 'same' size ⌈n / 2⌉; with 'valid' the window must fit "
                       "inside the image: ⌊(n − k) / 2⌋ + 1 gives {want}.",
    "01.3.shape_other": "on {where}, your output has shape {got}; ⌊(n − k) / 2⌋ + 1 per axis gives {want}.",
})


def keras_conv2d(image, kernel, stride=2):
    """What keras.layers.Conv2D(1, kernel.shape, strides=stride) computes on a 2D image (no bias)."""
    from keras import layers
    layer = layers.Conv2D(1, kernel.shape, strides=stride, use_bias=False)
    layer.build((None,) + image.shape + (1,))
    layer.set_weights([kernel[:, :, None, None].astype("float32")])
    return np.asarray(layer(image[None, :, :, None].astype("float32")))[0, :, :, 0].astype(np.float64)


def conv_cases(seed=15):
    """The hidden test inputs: (image, kernel) pairs of assorted sizes, some not square."""
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=s), rng.normal(size=k)) for s, k in CONV_CASES]


def check_conv(answer):
    """01.3: the learner's stride-2 convolution against Keras' Conv2D on hidden inputs."""
    fn = as_callable(answer, "conv2d_stride2")
    for image, kernel in conv_cases():
        where = say("01.3.where", image=f"{image.shape[0]}x{image.shape[1]}",
                    kernel=f"{kernel.shape[0]}x{kernel.shape[1]}")
        out, error = call(fn, image, kernel)
        if error:
            return wrong("01.3.raised", where=where, error=error)
        if out is None:
            return unanswered("01.3.none")
        try:
            out = as_array(out, 2, "what.01.output")
        except Unreadable as why:
            return wrong("01.3.unreadable", where=where, why=why)
        truth = keras_conv2d(image, kernel)
        if out.shape != truth.shape:
            return shape_slip(where, out.shape, truth.shape, image.shape, kernel.shape)
        if same(out, truth, 1e-4):
            continue
        if same(out, keras_conv2d(image, kernel[::-1, ::-1]), 1e-4):
            return wrong("01.3.flipped")
        if kernel.shape[0] == kernel.shape[1] and same(out, keras_conv2d(image, kernel.T), 1e-4):
            return wrong("01.3.transposed")
        i, j = np.unravel_index(np.argmax(np.abs(out - truth)), out.shape)
        return wrong("01.3.values", where=where, i=i, j=j, got=f"{out[i, j]:.3f}", want=f"{truth[i, j]:.3f}",
                     row=2 * i, col=2 * j)
    return right("01.3.right")


def shape_slip(where, got, want, image_shape, kernel_shape):
    """What an output shape of the wrong size reveals about a stride-2 'valid' convolution."""
    stride1 = tuple(n - k + 1 for n, k in zip(image_shape, kernel_shape))
    same_size = tuple(-(-n // 2) for n in image_shape)
    key = ("01.3.shape_stride1" if got == stride1 else "01.3.shape_swapped" if got == want[::-1]
           else "01.3.shape_same" if got == same_size else "01.3.shape_other")
    return wrong(key, where=where, got=got, want=want)


# ------------------------------------------------------------------------------- 01.4 horizontal edges

messages({
    "what.01.kernel": "a 3x3 kernel",
    "01.4.size": "the kernel has shape {shape}; a 3x3 kernel is asked for",
    "01.4.zero": "an all-zero kernel answers nothing at all: it needs weights that differ from top to bottom.",
    "01.4.vertical": "that kernel finds vertical edges (like the notebook's Sobel x): it compares left with right. "
                     "Transpose it (kernel.T) to compare top with bottom.",
    "01.4.blind": "a horizontal edge gives 0 with this kernel, so it does not find horizontal edges: each of its "
                  "rows sums to 0, and a horizontal edge is constant along rows. Give the top rows and the bottom "
                  "rows sums of opposite signs.",
    "01.4.flat": "it answers flat areas (a flat gray patch gives {flat}): its values sum to {total}. Make them sum to "
                 "0, so equal pixels cancel out.",
    "01.4.vertical_too": "it answers vertical edges too ({vertical}, against {horizontal} for a horizontal one). Make "
                         "every column sum to 0: then left-right changes cancel and only top-bottom changes remain.",
    "01.4.right": "a horizontal edge gives {horizontal}, a vertical edge and a flat area give 0. (With rows (1, 2, 1), "
                  "(0, 0, 0), (−1, −2, −1) this is the Sobel y filter.)",
})


def edge_images(n=9):
    """(horizontal edge, vertical edge, flat) test pictures: dark above bright, dark left of bright, gray."""
    horizontal = np.zeros((n, n))
    horizontal[n // 2:] = 1.0
    return horizontal, horizontal.T.copy(), np.full((n, n), 0.5)


def responses(kernel):
    """Strongest |response| of a kernel to a horizontal edge, a vertical edge and a flat area."""
    return tuple(float(np.abs(ops.conv2d(img, kernel)).max()) for img in edge_images())


def check_kernel(answer):
    """01.4: a 3x3 kernel with a non-zero response on a horizontal edge and none on flat areas or vertical edges."""
    kernel = as_array(answer, 2, "what.01.kernel")
    if kernel.shape != (3, 3):
        raise Unreadable("01.4.size", shape=kernel.shape)
    h, v, f = responses(kernel)
    scale = float(np.abs(kernel).sum())
    if scale == 0:
        return wrong("01.4.zero")
    tiny = 1e-6 * scale  # rounding only: 0 means 0
    if h <= tiny:
        return wrong("01.4.vertical" if v > tiny and f <= tiny else "01.4.flat" if f > tiny else "01.4.blind",
                     flat=num(f), total=num(kernel.sum()))
    if f > tiny:
        return wrong("01.4.flat", flat=num(f), total=num(kernel.sum()))
    if v > tiny:
        return wrong("01.4.vertical_too", vertical=num(v), horizontal=num(h))
    return right("01.4.right", horizontal=num(h))


exercise(
    id="01.1", title="Output shape of a strided convolution", kind="a shape",
    prompt="""### Exercise 01.1: output shape of a strided convolution

A `layers.Conv2D(16, 5, strides=2, padding="same")` layer receives a 64x64 RGB picture (shape `(64, 64, 3)`).
What is the shape of the feature map it outputs, without the batch axis? Answer with a tuple
`(height, width, depth)`. Predict it first, then check.""",
    hint="With padding='same' the formula is ⌈n / s⌉ per side; the depth of a Conv2D's output is its number "
         "of filters.",
    explanation="""With `padding="same"` Keras pads the border so that, at stride 1, the output keeps the input's
size; the stride then keeps one position in 2, so each side is ⌈64 / 2⌉ = 32. The 5x5 window size does not
matter with 'same' padding. The depth of the output is the number of filters, 16, whatever the input depth.
Keras computes the same shape:
`layers.Conv2D(16, 5, strides=2, padding="same").compute_output_shape((None, 64, 64, 3))`.""",
    solution_code="""# 'same' padding: ceil(64 / 2) = 32 per side; depth = number of filters
answer = (32, 32, 16)""",
    checker=check_shape)

exercise(
    id="01.2", title="Parameters of that layer", kind="a number",
    prompt="""### Exercise 01.2: parameters of that layer

How many trainable parameters does the same `Conv2D(16, 5, strides=2, padding="same")` layer have on the
64x64x3 input? Answer with a whole number.""",
    hint="Each filter has one weight per cell of its window and per input channel, plus one bias. Does the "
         "stride change how many weights there are?",
    explanation="""Each of the 16 filters is a 5 x 5 x 3 block of weights (it spans all 3 input channels)
plus one bias: 5·5·3 + 1 = 76 parameters, and 16 filters make 1,216. The same weights slide over every position,
so the picture size, the stride and the padding change the output's size but not the parameter count.""",
    solution_code="""answer = (5 * 5 * 3 + 1) * 16  # = ops.conv_params(5, 5, 3, 16)""",
    checker=check_params)

exercise(
    id="01.3", title="A stride-2 convolution by hand", kind="a function",
    prompt="""### Exercise 01.3: a stride-2 convolution by hand

Write `conv2d_stride2(image, kernel)`: the 'valid' convolution with stride 2 of a 2D `image` (height, width)
by a 2D `kernel` (kh, kw), without bias, returning a 2D array, as `Conv2D(1, (kh, kw), strides=2)` would compute
it. Use loops or NumPy, not `helpers.ops` (the notebook's `conv2d_loop` is a good start). The check runs your
function on hidden images, some not square, and compares with Keras.""",
    starter="""def conv2d_stride2(image, kernel):
    ...  # your code: return the 2D output
""",
    name="conv2d_stride2",
    hint="The output has ⌊(n − k) / 2⌋ + 1 rows (and the same formula for the columns); output (i, j) is "
         "np.sum(image[2*i:2*i+kh, 2*j:2*j+kw] * kernel).",
    explanation="""Per axis, a window of size k fits at positions 0, 2, 4, ... as long as it stays inside the
image, which gives ⌊(n − k) / 2⌋ + 1 positions. The output at (i, j) multiplies the window whose top-left corner is
(2·i, 2·j) element-wise with the kernel and sums: no flipping, since Keras computes a cross-correlation. On an even
image the last row or column may be left out; Keras leaves it out too.""",
    solution_code="""def conv2d_stride2(image, kernel):
    kh, kw = kernel.shape
    oh, ow = (image.shape[0] - kh) // 2 + 1, (image.shape[1] - kw) // 2 + 1
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[i, j] = np.sum(image[2 * i:2 * i + kh, 2 * j:2 * j + kw] * kernel)
    return out

# the same as Keras on a random picture:
rng = np.random.default_rng(0)
image, kernel = rng.normal(size=(9, 8)), rng.normal(size=(3, 3))
layer = layers.Conv2D(1, (3, 3), strides=2, use_bias=False)
layer.build((None, 9, 8, 1))
layer.set_weights([kernel[:, :, None, None]])
keras_out = np.asarray(layer(image[None, :, :, None]))[0, :, :, 0]
print("same as Keras:", np.allclose(conv2d_stride2(image, kernel), keras_out, atol=1e-4))""",
    checker=check_conv)

exercise(
    id="01.4", title="A kernel for horizontal edges", kind="a 3x3 array",
    prompt="""### Exercise 01.4: a kernel for horizontal edges

Design a 3x3 kernel that responds to **horizontal** edges (dark above bright, or bright above dark) and gives 0 on
flat areas and on vertical edges. Answer with a 3x3 NumPy array (or nested lists). The check slides your kernel
over a horizontal edge, a vertical edge and a flat gray picture.""",
    hint="A flat patch gives the sum of the kernel's values times the gray level, so that sum must be 0. To "
         "ignore left-right changes, make every column of the kernel sum to 0, with different rows.",
    explanation="""A kernel answers flat areas with the sum of its weights times the pixel value: the weights
must sum to 0. It answers a vertical edge with sums of its columns, so every column must sum to 0 too. Rows of +1 on
top and −1 below do both, and answer a horizontal edge strongly: that is the Prewitt filter; with (1, 2, 1) rows it is
Sobel y, the transpose of the notebook's Sobel x.""",
    solution_code="""answer = np.array([[ 1,  2,  1],
                   [ 0,  0,  0],
                   [-1, -2, -1]])  # Sobel y: top minus bottom""",
    checker=check_kernel)
