"""Exercises for notebook 01's first convnet (section 5.1, listings 5.1-5.2): shapes, the classifier's parameters,
what sharing the filters' weights saves."""
from functools import cache

from .answers import as_int, as_shape
from .core import exercise, judge_number, judge_shape
from .messages import messages

NOTEBOOK = "01"
SIZE = 32  # the input side of exercise 01.5


@cache
def listing_5_1(side=SIZE, channels=1):
    """Listing 5.1's convolutional base on a side x side x channels input (keras.Input instead of input_shape)."""
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input(shape=(side, side, channels)),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
    ])


def last_shape(side=SIZE):
    """The output shape (no batch axis) of listing 5.1's last layer on a side x side x 1 input."""
    return tuple(int(d) for d in listing_5_1(side).compute_output_shape((None, side, side, 1))[1:])


@cache
def classifier_params():
    """Listing 5.2's classifier (Flatten, Dense(64), Dense(10)) on listing 5.1's (3, 3, 64) output: Keras' count."""
    import keras
    from keras import layers

    head = keras.Sequential([keras.Input(shape=(3, 3, 64)), layers.Flatten(), layers.Dense(64, activation="relu"),
                             layers.Dense(10, activation="softmax")])
    return head.count_params()


def unshared_params(side=28, kernel=3, filters=32, channels=1):
    """Listing 5.1's first layer if each output position had its own filters: positions x filters x (weights + 1)."""
    positions = (side - kernel + 1) ** 2
    return positions * filters * (kernel * kernel * channels + 1)


messages({
    "01.5.right": "{truth}: 32 → 30 (3x3 'valid') → 15 (pooling) → 13 → 6 (pooling keeps ⌊13 / 2⌋) → 4, and the "
                  "last Conv2D has 64 filters. Keras agrees: its model.summary() on a 32x32x1 input ends in "
                  "(None, 4, 4, 64).",
    "01.5.round_up": "{shape}: a 2x2 max pooling of 13 rows keeps ⌊13 / 2⌋ = 6; the last row has no partner and is "
                     "dropped, not rounded up.",
    "01.5.no_shrink": "{shape} forgets that each 3x3 'valid' convolution takes 2 off each side (32 → 30 at the "
                      "first layer), before the pooling halves it.",
    "01.5.mnist": "{shape} is the output on MNIST's 28x28 images (the notebook's summary); here the input is "
                  "32x32.",
    "01.5.depth_input": "{shape}: the depth of a Conv2D's output is its number of filters (64 for the last one), "
                        "not the input's single channel.",
    "01.5.depth_first": "{shape}: the height and width are right; the last Conv2D has 64 filters, not 32.",
    "01.6.right": "{truth}: Flatten turns (3, 3, 64) into 576 values and has no weights; Dense(64) has 576 · 64 + "
                  "64 = 36,928 and Dense(10) 64 · 10 + 10 = 650. With listing 5.1's 55,744 that makes the book's "
                  "93,322.",
    "01.6.no_bias": "{value} leaves out the biases: one per unit, 64 + 10 more.",
    "01.6.first_only": "{value} is Dense(64) alone; Dense(10) adds 64 · 10 + 10 = 650.",
    "01.6.last_only": "{value} is Dense(10) alone; Dense(64) on the 576 flattened values comes first.",
    "01.6.whole": "{value} is the whole model of listing 5.2; the question asks for the classifier only (Flatten, "
                  "Dense(64), Dense(10)).",
    "01.6.base": "{value} is listing 5.1's convolutional base; the classifier is what listing 5.2 adds.",
    "01.6.flat_wrong": "{value} comes from flattening the wrong shape: listing 5.1 ends in (3, 3, 64), so "
                       "Flatten gives 3 · 3 · 64 = 576 values.",
    "01.7.right": "{truth}: 676 positions (26 x 26) each with its own 32 filters of 9 weights and a bias. The "
                  "shared layer has 320: the same 32 filters slide over every position. That sharing, and "
                  "pooling shrinking the maps, is why listing 5.2's model needs 93,322 parameters where chapter "
                  "2's dense network needs 407,050.",
    "01.7.shared": "{value} is the layer as Keras builds it, with its filters shared by every position; the "
                   "question asks for one set of filters per output position.",
    "01.7.no_bias": "{value} leaves out the biases: each filter at each position has one, 26 · 26 · 32 more.",
    "01.7.input_positions": "{value} counts 28 x 28 positions; a 3x3 'valid' window fits at 26 x 26.",
    "01.7.one_filter": "{value} is one filter per position; the layer has 32 at each.",
})


def check_larger_input(answer):
    """01.5: the last output shape of listing 5.1 on a 32x32x1 input."""
    shape = as_shape(answer, 3)
    truth = last_shape()
    mistakes = [
        ((5, 5, 64), "01.5.round_up"),
        ((8, 8, 64), "01.5.no_shrink"),
        ((3, 3, 64), "01.5.mnist"),
        ((4, 4, 1), "01.5.depth_input"),
        ((4, 4, 32), "01.5.depth_first"),
    ]
    return judge_shape(shape, truth, "01.5.right", mistakes, fields={"shape": shape, "truth": truth})


def check_classifier(answer):
    """01.6: the parameters listing 5.2 adds on top of listing 5.1."""
    value = as_int(answer)
    truth = classifier_params()
    mistakes = [
        (576 * 64 + 64 * 10, "01.6.no_bias"),
        (576 * 64 + 64, "01.6.first_only"),
        (64 * 10 + 10, "01.6.last_only"),
        (93_322, "01.6.whole"),
        (93_322 - truth, "01.6.base"),
        (5 * 5 * 64 * 64 + 64 + 650, "01.6.flat_wrong"),
        (11 * 11 * 64 * 64 + 64 + 650, "01.6.flat_wrong"),
    ]
    return judge_number(value, truth, "01.6.right", mistakes, fields={"value": f"{value:,}", "truth": f"{truth:,}"})


def check_unshared(answer):
    """01.7: listing 5.1's first layer with one set of filters per output position."""
    value = as_int(answer)
    truth = unshared_params()
    mistakes = [
        (320, "01.7.shared"),
        (26 * 26 * 32 * 9, "01.7.no_bias"),
        (28 * 28 * 32 * 10, "01.7.input_positions"),
        (26 * 26 * 10, "01.7.one_filter"),
    ]
    return judge_number(value, truth, "01.7.right", mistakes, fields={"value": f"{value:,}", "truth": f"{truth:,}"})


exercise(
    id="01.5", title="Listing 5.1 on a larger picture", kind="a shape",
    prompt="""### Exercise 01.5: listing 5.1 on a larger picture

Build listing 5.1's layers on 32x32 greyscale pictures (`keras.Input(shape=(32, 32, 1))`) instead of MNIST's
28x28. What is the output shape of its last `Conv2D`, without the batch axis? Work it out layer by layer first,
then check (with `model.summary()` if you like).""",
    hint="Each 3x3 'valid' Conv2D takes 2 off the height and the width; each 2x2 MaxPooling2D halves them, "
         "rounding down. The depth is the last layer's number of filters.",
    explanation="""Layer by layer: 32 → 30 (3x3 convolution) → 15 (pooling) → 13 (convolution) → 6 (pooling: the
13th row has no partner and is dropped) → 4 (convolution), with the 64 filters of the last `Conv2D` as depth. On
MNIST's 28x28 the same steps give the book's 26, 13, 11, 5, 3.""",
    solution_code="""import keras
from keras import layers

model = keras.Sequential([keras.Input(shape=(32, 32, 1)),
                          layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
                          layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
                          layers.Conv2D(64, (3, 3), activation="relu")])
answer = model.compute_output_shape((None, 32, 32, 1))[1:]  # (4, 4, 64)""",
    checker=check_larger_input)

exercise(
    id="01.6", title="The parameters of listing 5.2's classifier", kind="a number",
    prompt="""### Exercise 01.6: the parameters of listing 5.2's classifier

Listing 5.2 puts `Flatten()`, `Dense(64, activation='relu')` and `Dense(10, activation='softmax')` on top of
listing 5.1, whose last output is `(3, 3, 64)`. How many parameters do these three layers add? Answer with a
whole number.""",
    hint="Flatten has no weights; it turns (3, 3, 64) into one vector. A Dense layer has inputs · units weights "
         "plus one bias per unit.",
    explanation="""`Flatten` reshapes the (3, 3, 64) output into 576 values and learns nothing. `Dense(64)` has
576 · 64 weights and 64 biases (36,928), `Dense(10)` 64 · 10 + 10 = 650: 37,578 together. Listing 5.1's base has
55,744, and the sum is the book's 93,322.""",
    solution_code="""answer = (3 * 3 * 64) * 64 + 64 + 64 * 10 + 10  # 37,578""",
    checker=check_classifier)

exercise(
    id="01.7", title="What sharing the filters saves", kind="a number",
    prompt="""### Exercise 01.7: what sharing the filters saves

Listing 5.1's first layer, `Conv2D(32, (3, 3))` on 28x28x1 pictures, has 320 parameters because its 32 filters
(3x3 weights and a bias each) are the same at every position. Suppose instead that every output position had its
own 32 filters (a *locally connected* layer). How many parameters would that layer have? Answer with a whole
number.""",
    hint="A 3x3 'valid' window fits at 26 x 26 positions; count the weights and biases of 32 filters at one "
         "position, then multiply.",
    explanation="""The window fits at 26 · 26 = 676 positions. With their own filters, each position needs
32 · (3 · 3 · 1 + 1) = 320 parameters, so the layer would need 676 · 320 = 216,320: 676 times the shared
layer. Sharing the filters (the same pattern detector everywhere) and pooling (smaller maps for the classifier)
are why the convnet needs 93,322 parameters where chapter 2's dense network needs 407,050.""",
    solution_code="""positions = (28 - 3 + 1) ** 2
answer = positions * 32 * (3 * 3 * 1 + 1)  # 216,320""",
    checker=check_unshared)
