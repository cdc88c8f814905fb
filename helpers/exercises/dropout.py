"""Exercises for notebook 06 (dropout and augmentation): where dropout goes, its parameters, its values, validation."""
from functools import cache

import numpy as np

from .. import book, models
from .answers import as_array, as_int, as_sequence, judge_choice, plain
from .core import Unreadable, exercise, first_match, judge_number, right, same, wrong
from .messages import messages, num, say

NOTEBOOK = "06"
FILE = "06_dropout_and_augmentation.ipynb"
# What the exercises and their worked solutions use: the first cell of the notebook's exercises.
IMPORTS = """import keras
import numpy as np
from keras import layers

from helpers import exercises"""
INTRO = """## Exercises

Five exercises on 드롭아웃 (dropout) and on augmenting only the training data. Replace each `...` with your
answer and run the cell; `exercises.check` says whether it is right and, if not, what your answer reveals.
`exercises.hint("06.1")` gives a hint, `exercises.solution("06.1")` the worked solution (all of them are in
`solutions/06_dropout_and_augmentation_solutions.ipynb`)."""


def mnist_layers(units=64):
    """Listing 5.1's MNIST convnet base with listing 5.2's classifier, as a list of layers (no Input)."""
    from keras import layers
    return [layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"), layers.Flatten(),
            layers.Dense(units, activation="relu"), layers.Dense(10, activation="softmax")]


@cache
def mnist_counts():
    """(features Flatten gives, parameters) of listings 5.1-5.2 on 28x28x1 digits, as Keras counts them."""
    import keras
    model = keras.Sequential([keras.Input(shape=(28, 28, 1))] + mnist_layers())
    return int(model.layers[5].output.shape[-1]), model.count_params()


def signature(layer):
    """A layer's type and the settings that define it, comparable across models."""
    config = layer.get_config()
    keys = {"Conv2D": ("filters", "kernel_size", "strides", "padding", "activation"),
            "MaxPooling2D": ("pool_size", "strides", "padding"), "Dense": ("units", "activation"),
            "Dropout": ("rate",), "Flatten": ()}.get(type(layer).__name__, ())
    return (type(layer).__name__,) + tuple(
        tuple(config[k]) if isinstance(config[k], list) else config[k] for k in keys)


def describe_layer(sig):
    """'Conv2D(32, ...)'-style text for a signature."""
    return f"{sig[0]}({', '.join(map(str, sig[1:]))})"


def model_input_shape(model):
    """The model's input shape without the batch axis, or None when it has none yet (a Sequential without Input)."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    return tuple(inputs[0].shape[1:]) if inputs else None


messages({
    "06.1.kind": "{kind} is not a Keras model: build keras.Sequential([...]) (or a functional keras.Model)",
    "06.1.input": "the model's input is {shape}: the MNIST digits are 28x28x1, keras.Input(shape=(28, 28, 1)).",
    "06.1.dense512": "that classifier is notebook 02's (Flatten → Dense(512), there only to count parameters); "
                     "listing 5.2's is Flatten → Dense(64, activation='relu') → Dense(10, activation='softmax').",
    "06.1.layers": "apart from Dropout the layers must stay those of listings 5.1 and 5.2: layer {position} is "
                   "{got}, expected {want}.",
    "06.1.nothing": "nothing",
    "06.1.none": "there is no Dropout layer: add layers.Dropout(0.5).",
    "06.1.several": "{count} Dropout layers: the book adds one.",
    "06.1.dense_dense": "between the two Dense layers works too, but the book drops the flattened features, before "
                        "the first Dense: move it right after Flatten.",
    "06.1.output": "after the output layer it would zero whole class probabilities at random: dropout goes before "
                   "the classifier, right after Flatten.",
    "06.1.feature_map": "on the last feature map it zeroes single positions of a channel, which neighbours largely "
                        "replace; the book drops the flattened features: move it after Flatten.",
    "06.1.elsewhere": "it sits between {before} and {after}; listing 5.13 puts it right after Flatten, before the "
                      "first Dense layer.",
    "06.1.the_input": "the input",
    "06.1.rate": "the place is right; the book's rate is 0.5 (half of the features dropped), not {rate}.",
    "06.1.right": "Dropout(0.5) right after Flatten: each training step zeroes half of the {features} flattened "
                  "features, so the Dense(64) layer cannot lean on any one of them. Parameters: {params}, the same "
                  "as without dropout.",
})


def check_dropout_model(answer):
    """06.1: listings 5.1-5.2 with Dropout(0.5) where listing 5.13 puts it, compared layer by layer.

    A Sequential with or without keras.Input and a functional model are read alike: by their layers in order.
    """
    import keras
    if not isinstance(answer, keras.Model):
        raise Unreadable("06.1.kind", kind=type(answer).__name__)
    shape = model_input_shape(answer)
    if shape is not None and shape != (28, 28, 1):
        return wrong("06.1.input", shape=shape)
    got = [signature(layer) for layer in answer.layers if type(layer).__name__ != "InputLayer"]
    dropouts = [i for i, s in enumerate(got) if s[0] == "Dropout"]
    rest = [s for s in got if s[0] != "Dropout"]
    want = [signature(layer) for layer in mnist_layers()]
    if rest != want:
        diff = next((i for i, (g, w) in enumerate(zip(rest, want)) if g != w), min(len(rest), len(want)))
        if diff < len(rest) and rest[diff] == signature(mnist_layers(512)[6]):
            return wrong("06.1.dense512")
        nothing = say("06.1.nothing")
        return wrong("06.1.layers", position=diff + 1,
                     got=describe_layer(rest[diff]) if diff < len(rest) else nothing,
                     want=describe_layer(want[diff]) if diff < len(want) else nothing)
    if not dropouts:
        return wrong("06.1.none")
    if len(dropouts) > 1:
        return wrong("06.1.several", count=len(dropouts))
    position, rate = dropouts[0], got[dropouts[0]][1]
    before = got[position - 1][0] if position else None
    after = got[position + 1][0] if position + 1 < len(got) else None
    if (before, after) != ("Flatten", "Dense"):
        key = {("Dense", "Dense"): "06.1.dense_dense", ("Dense", None): "06.1.output",
               ("Conv2D", "Flatten"): "06.1.feature_map"}.get((before, after), "06.1.elsewhere")
        return wrong(key, before=before or say("06.1.the_input"), after=after or say("06.1.nothing"))
    if not np.isclose(rate, 0.5):
        return wrong("06.1.rate", rate=num(rate))
    features, params = mnist_counts()
    return right("06.1.right", features=num(features), params=num(params))


@cache
def added_params():
    """Parameters Dropout adds to the baseline, as Keras counts them."""
    return models.build_dropout_model().count_params() - models.build_baseline().count_params()


messages({
    "what.06.params": "a number of parameters (a whole number)",
    "06.2.right": "{truth}: Keras counts {params} parameters with and without Dropout. Dropout only multiplies its "
                  "input by a random mask of 0s and 2s while training.",
    "06.2.half": "Dropout zeroes half of the 6,272 features at random at each step, but it learns nothing: it has no "
                 "weights, and the Dense layer still has 6,272 inputs.",
    "06.2.features": "the 6,272 features all still reach the Dense layer (half of them zeroed at each step); Dropout "
                     "itself has no weights.",
    "06.2.removed": "the Dense layer keeps all its weights: which features are dropped changes at every step, so "
                    "every weight is still needed.",
    "06.2.rate": "the rate 0.5 is a setting chosen by hand, not a trained parameter.",
    "06.2.whole": "that is the whole model's count; the question asks how many Dropout adds.",
})


def check_added(answer):
    """06.2: how many parameters Dropout(0.5) adds to listing 5.5."""
    value = as_int(answer, "what.06.params")
    truth = added_params()
    mistakes = [
        (3136, "06.2.half"),
        (6272, "06.2.features"),
        (-(6272 // 2) * 512, "06.2.removed"),
        (1, "06.2.rate"),
        (book.PARAMETERS, "06.2.whole"),
    ]
    return judge_number(value, truth, "06.2.right", mistakes, {"truth": num(truth), "params": num(book.PARAMETERS)})


@cache
def dropout_values(rate=0.5, n=2000):
    """The distinct values Keras' Dropout(rate) outputs for an input of ones while training."""
    from keras import layers
    out = layers.Dropout(rate, seed=0)(np.ones(n, "float32"), training=True)
    return tuple(sorted(set(np.round(np.asarray(out), 6))))


messages({
    "what.06.values": "a set of numbers",
    "06.4.form": "give the possible values as a set, e.g. {{0.0, 1.0}} (a list, an array or np.unique(...) of the "
                 "layer's output work too)",
    "06.4.right": "{values}: half of the values are zeroed and the kept ones are scaled by 1 / (1 − 0.5) = 2, so the "
                  "layer's output has the same mean as its input. At inference (training=False) it passes the input "
                  "through unchanged.",
    "06.4.unscaled": "Keras scales the kept values by 1 / (1 − rate) = 2 while training, so that the expected output "
                     "stays 1 and nothing needs rescaling at inference.",
    "06.4.inference": "that is at inference (training=False); with training=True about half of the values are "
                      "zeroed.",
    "06.4.down": "the kept values are scaled up, not down: divided by 1 − rate = 0.5.",
    "06.4.zeros": "only about half of the values are dropped; the others are kept and scaled by 2.",
    "06.4.three": "each value is either dropped (0) or kept and scaled (2); none stays at 1.",
    "06.4.other": "{values}: each value is either dropped or kept and scaled by 1 / (1 − rate).",
})


def check_values(answer):
    """06.4: the values Dropout(0.5) can output for ones while training, from Keras itself."""
    answer = plain(answer)
    if isinstance(answer, np.ndarray):
        answer = answer.ravel()  # the layer's output as it is, or np.unique(...) of it
    try:
        items = as_sequence(answer, "what.06.values", unordered=True)
    except Unreadable:
        raise Unreadable("06.4.form") from None
    values = tuple(sorted(set(as_array(items, 1, "what.06.values").tolist())))
    truth = tuple(float(v) for v in dropout_values())
    shown = "{" + ", ".join(num(v) for v in values) + "}"
    if same(values, truth):
        return right("06.4.right", values=shown)
    known = [((0.0, 1.0), "06.4.unscaled"), ((1.0,), "06.4.inference"), ((0.0, 0.5), "06.4.down"),
             ((0.0,), "06.4.zeros"), ((0.0, 1.0, 2.0), "06.4.three")]
    return wrong(first_match(values, known, tol=1e-6) or "06.4.other", values=shown)


WHY_CHOICES = {
    "a": "Augmentation helps the validation score only; dropout is what fights overfitting on the training data.",
    "b": "The augmented pictures are still remixes of the same 2,000 photos, strongly intercorrelated: they bring no "
         "new information, so the network can still overfit, and dropout fights the overfitting that remains.",
    "c": "Dropout creates new variations of the same photos, which augmentation cannot.",
    "d": "Dropout makes training faster, which makes up for the time augmentation costs.",
}

messages({
    "06.5.right": "in the book's words, you can't produce new information, you can only remix existing information. "
                  "The augmented inputs stay heavily intercorrelated, so the network can still memorise them; "
                  "dropout, zeroing a random half of the flattened features at each step, fights what remains of the "
                  "overfitting.",
    "06.5.a": "augmentation changes the training data only (exercise 06.3): it fights overfitting there, and the "
              "validation data stays as it is. Both devices act on training.",
    "06.5.c": "dropout makes no pictures: it zeroes a random half of the flattened features at each training step. "
              "Making variations of the photos is augmentation's job.",
    "06.5.d": "dropout does not make training faster: the model keeps all its weights, and with half of the features "
              "zeroed at each step it needs more epochs, not fewer (the book trains 100).",
    "06.3.right": "validation data stands for the photos the model will meet: real, undistorted ones, the same every "
                  "epoch so that epochs compare. Augmented validation pictures are random and distorted; the score "
                  "would wobble and measure something else.",
    "06.3.a": "augmentation makes no new information: distorted copies of 1,000 pictures do not estimate better how "
              "the model does on real photos, and the copies change every epoch.",
    "06.3.c": "the model does not train on them, but it is scored on them: rotated, sheared, zoomed pictures get "
              "other predictions than the real ones, and new ones every epoch.",
    "06.3.d": "augmentation fights overfitting when it changes the training data. On validation data it only changes "
              "what is measured.",
})


def check_why(answer):
    """06.5: why dropout comes on top of augmentation, as a choice (no free text is marked by key words)."""
    return judge_choice(answer, WHY_CHOICES, "b", "06.5.right", {k: f"06.5.{k}" for k in "acd"})


VALIDATION_CHOICES = {
    "a": "A better estimate of the accuracy on new photos, since there are more different validation pictures.",
    "b": "A number that changes from epoch to epoch even when the model does not, measured on distorted pictures "
         "unlike the photos the model will meet: no longer an estimate of its real accuracy.",
    "c": "The same as without augmentation, since the model never trains on validation data.",
    "d": "Higher, because augmentation prevents overfitting.",
}


def check_validation(answer):
    """06.3: what augmenting the validation data would do to the validation score."""
    return judge_choice(answer, VALIDATION_CHOICES, "b", "06.3.right", {k: f"06.3.{k}" for k in "acd"})


exercise(
    id="06.1", title="Where dropout goes", kind="a Keras model",
    prompt="""### Exercise 06.1: where dropout goes

The book's MNIST convnet is listing 5.1's convolution base, `Conv2D(32, (3, 3))`, `MaxPooling2D((2, 2))`,
`Conv2D(64, (3, 3))`, `MaxPooling2D((2, 2))`, `Conv2D(64, (3, 3))`, all with ReLU, on 28x28x1 digits, and
listing 5.2's classifier, `Flatten` → `Dense(64, activation="relu")` → `Dense(10, activation="softmax")`
(notebook 02's `mnist_convnet` ends in a `Dense(512)` instead, only to count parameters). Build that model with one
`Dropout(0.5)` where listing 5.13 puts it in the cats-and-dogs model.""",
    starter="""answer = ...  # keras.Sequential([keras.Input(shape=(28, 28, 1)), ...your layers...])""",
    hint="In listing 5.13 the Dropout layer sits between Flatten and the first Dense layer.",
    explanation="""Listing 5.13 drops the flattened features, right before the dense classifier: during training
half of them are zeroed at random at each step, so the Dense layer cannot rely on any single one. The layer has no
weights: the model has exactly the parameters of listings 5.1 and 5.2 (93,322). A `keras.Sequential` without
`keras.Input`, or the same layers as a functional `keras.Model`, is the same answer.""",
    solution_code="""answer = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(32, (3, 3), activation="relu"),
    layers.MaxPooling2D((2, 2)),
    layers.Conv2D(64, (3, 3), activation="relu"),
    layers.MaxPooling2D((2, 2)),
    layers.Conv2D(64, (3, 3), activation="relu"),
    layers.Flatten(),
    layers.Dropout(0.5),
    layers.Dense(64, activation="relu"),
    layers.Dense(10, activation="softmax"),
])""",
    checker=check_dropout_model)

exercise(
    id="06.2", title="What dropout adds to the parameter count", kind="a number",
    prompt="""### Exercise 06.2: what dropout adds to the parameter count

How many parameters does adding `Dropout(0.5)` after `Flatten` add to listing 5.5's network (3,453,121
parameters)? Answer with a number (0 if none, negative if it removes some).""",
    hint="What would dropout have to learn? What does the Dense layer after it still receive?",
    explanation="""None: Dropout multiplies its input by a random mask (0 for dropped values, 1 / (1 − rate) for kept
ones) while training and does nothing at inference. It has no weights, and the Dense layer after it still has 6,272
inputs: the model keeps 3,453,121 parameters, as the notebook's summary shows.""",
    solution_code="""answer = 0""",
    checker=check_added)

exercise(
    id="06.3", title="Augmenting the validation data", kind="a letter",
    prompt="""### Exercise 06.3: augmenting the validation data

Suppose the validation generator used the training `ImageDataGenerator` (rotations, shifts, shear, zoom, flips)
instead of rescaling only. What would the validation accuracy you watch during training become? Answer with one
letter.

""" + "\n".join(f"- **{k}**: {v}" for k, v in VALIDATION_CHOICES.items()),
    hint="What is the validation score for? What does the model meet after training?",
    explanation="""The validation score estimates how the model does on the photos it will meet: real ones, not
rotated or sheared, and the same pictures every epoch so that epochs can be compared. With augmentation every epoch
would score new, distorted variants: the number would wobble even for a fixed model and would measure accuracy on
pictures unlike the real ones. Augmentation is a training device: the notebook's `test_datagen` only rescales.""",
    solution_code='answer = "b"',
    checker=check_validation)

exercise(
    id="06.4", title="What dropout outputs", kind="a set of numbers",
    prompt="""### Exercise 06.4: what dropout outputs

`layers.Dropout(0.5)` receives `np.ones(8)` with `training=True`. Which values can its outputs take? Answer with a
set, e.g. `{0.0, 1.0}`, then try it in a cell.""",
    hint="Keras keeps the layer's expected output equal to its input while training.",
    explanation="""Each value is dropped (0) with probability 0.5 or kept; the kept ones are multiplied by
1 / (1 − 0.5) = 2, so the mean of the output stays 1 ("inverted dropout"). At inference (`training=False`, as in
`model.predict`) the layer passes its input through unchanged, and nothing needs rescaling.""",
    solution_code="""answer = {0.0, 1 / (1 - 0.5)}""",
    checker=check_values)

exercise(
    id="06.5", title="Why dropout on top of augmentation", kind="a letter",
    prompt="""### Exercise 06.5: why dropout on top of augmentation

The training pictures are already augmented, yet listing 5.13 adds `Dropout(0.5)` too. Why? Answer with one
letter.

""" + "\n".join(f"- **{k}**: {v}" for k, v in WHY_CHOICES.items()),
    hint="What is an augmented picture made from? Can a network still memorise 2,000 photos seen in many variants?",
    explanation="""Augmented pictures are random variations of the same 2,000 photos: they stay strongly correlated
with the originals and bring no new information, so the network can still overfit, memorising what those photos
happen to have in common. Dropout fights the overfitting that remains: at every step it zeroes a random half of the
features, so the Dense layer cannot rely on any single one. The book says it in one line: the inputs the network
sees are still heavily intercorrelated, since they come from a small number of original images; you can't produce
new information, you can only remix existing information.""",
    solution_code='answer = "b"',
    checker=check_why)
