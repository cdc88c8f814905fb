"""Exercises for notebook 06 (dropout and augmentation): where dropout goes, its parameters, its values, validation."""
from functools import cache

import numpy as np

from .. import models
from .core import (Unreadable, as_array, as_int, as_text, exercise, judge_choice, judge_number, judge_text, right,
                   wrong)

NOTEBOOK = "06"
FILE = "06_dropout_and_augmentation.ipynb"
# What the exercises and their worked solutions use: the first cell of the notebook's exercises.
IMPORTS = """import keras
import numpy as np
from keras import layers

from helpers import exercises"""
INTRO = """## Exercises

Five exercises on 드롭아웃 (dropout) and on augmenting only the training data; the last one asks for a sentence
and shows a model answer. Replace each `...` with your answer
and run the cell; `exercises.check` says whether it is right and, if not, what your answer reveals.
`exercises.hint("06.1")` gives a hint, `exercises.solution("06.1")` the worked solution (all of them are in
`solutions/06_dropout_and_augmentation_solutions.ipynb`)."""


def mnist_layers():
    """Listing 5.1's MNIST convnet with its classifier, as a list of layers (no Input)."""
    from keras import layers
    return [layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"), layers.Flatten(),
            layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax")]


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


def check_dropout_model(answer):
    """06.1: listing 5.1 with Dropout(0.5) where listing 5.13 puts it, compared layer by layer."""
    import keras
    if not isinstance(answer, keras.Model):
        raise Unreadable(f"{type(answer).__name__} is not a Keras model: build keras.Sequential([...])")
    if not answer.inputs or tuple(answer.inputs[0].shape[1:]) != (28, 28, 1):
        shape = tuple(answer.inputs[0].shape[1:]) if answer.inputs else "unknown"
        return wrong(f"the model's input is {shape}: start it with keras.Input(shape=(28, 28, 1)), the MNIST digits.")
    got = [signature(layer) for layer in answer.layers]
    dropouts = [i for i, s in enumerate(got) if s[0] == "Dropout"]
    rest = [s for s in got if s[0] != "Dropout"]
    want = [signature(layer) for layer in mnist_layers()]
    if rest != want:
        diff = next((i for i, (g, w) in enumerate(zip(rest, want)) if g != w), min(len(rest), len(want)))
        shown = describe_layer(rest[diff]) if diff < len(rest) else "nothing"
        return wrong(f"apart from Dropout the layers must stay listing 5.1's: layer {diff + 1} is {shown}, "
                     f"expected {describe_layer(want[diff]) if diff < len(want) else 'nothing'}.")
    if not dropouts:
        return wrong("there is no Dropout layer: add layers.Dropout(0.5).")
    if len(dropouts) > 1:
        return wrong(f"{len(dropouts)} Dropout layers: the book adds one.")
    position, rate = dropouts[0], got[dropouts[0]][1]
    before = got[position - 1][0] if position else "the input"
    after = got[position + 1][0] if position + 1 < len(got) else "nothing"
    if (before, after) != ("Flatten", "Dense"):
        where = {("Dense", "Dense"): "between the two Dense layers works too, but the book drops the flattened "
                 "features, before the first Dense: move it right after Flatten.",
                 ("Dense", "nothing"): "after the output layer it would zero whole class probabilities at random: "
                 "dropout goes before the classifier, right after Flatten.",
                 ("Conv2D", "Flatten"): "on the last feature map it zeroes single positions of a channel, which "
                 "neighbours largely replace; the book drops the flattened features: move it after Flatten."}
        return wrong(where.get((before, after), f"it sits between {before} and {after}; listing 5.13 puts it "
                               "right after Flatten, before the first Dense layer."))
    if not np.isclose(rate, 0.5):
        return wrong(f"the place is right; the book's rate is 0.5 (half of the features dropped), not {rate:g}.")
    features = answer.layers[position].input.shape[-1]
    return right(f"Dropout(0.5) right after Flatten: each training step zeroes half of the {features} "
                 f"flattened features, so the Dense(64) layer cannot lean on any one of them. "
                 f"Parameters: {answer.count_params():,}, the same as without dropout.")


@cache
def added_params():
    """Parameters Dropout adds to the baseline, as Keras counts them."""
    return models.build_dropout_model().count_params() - models.build_baseline().count_params()


def check_added(answer):
    """06.2: how many parameters Dropout(0.5) adds to listing 5.5."""
    value = as_int(answer, "a number of parameters (a whole number)")
    truth = added_params()
    mistakes = [
        (3136, ("Dropout zeroes half of the 6,272 features at random at each step, but it learns nothing: it has no "
         "weights, and the Dense layer still has 6,272 inputs.")),
        (6272, ("the 6,272 features all still reach the Dense layer (half of them zeroed at each step); Dropout "
         "itself has no weights.")),
        (-(6272 // 2) * 512, ("the Dense layer keeps all its weights: which features are dropped changes at every "
         "step, so every weight is still needed.")),
        (1, "the rate 0.5 is a setting chosen by hand, not a trained parameter."),
        (3453121, "that is the whole model's count; the question asks how many Dropout adds."),
    ]
    return judge_number(value, truth, f"{truth}: Keras counts 3,453,121 parameters with and without Dropout. Dropout "
                        "only multiplies its input by a random mask of 0s and 2s while training.", mistakes)


@cache
def dropout_values(rate=0.5, n=2000):
    """The distinct values Keras' Dropout(rate) outputs for an input of ones while training."""
    from keras import layers
    out = layers.Dropout(rate, seed=0)(np.ones(n, "float32"), training=True)
    return tuple(sorted(set(np.round(np.asarray(out), 6))))


def check_values(answer):
    """06.4: the values Dropout(0.5) can output for ones while training, from Keras itself."""
    if not isinstance(answer, (set, frozenset, list, tuple)):
        raise Unreadable("give the possible values as a set, e.g. {0.0, 1.0}")
    values = tuple(sorted(set(as_array(list(answer), 1, "a set of numbers").tolist())))
    truth = tuple(float(v) for v in dropout_values())
    if len(values) == len(truth) and np.allclose(values, truth):
        return right(f"{set(truth)}: half of the values are zeroed and the kept ones are scaled by 1 / (1 − 0.5) = 2, "
                     "so the layer's output has the same mean as its input. At inference (training=False) it passes "
                     "the input through unchanged.")
    known = [((0.0, 1.0), ("Keras scales the kept values by 1 / (1 − rate) = 2 while training, so that the expected "
                          "output stays 1 and nothing needs rescaling at inference.")),
             ((1.0,), "that is at inference (training=False); with training=True about half of the values are zeroed."),
             ((0.0, 0.5), "the kept values are scaled up, not down: divided by 1 − rate = 0.5."),
             ((0.0,), "only about half of the values are dropped; the others are kept and scaled by 2."),
             ((0.0, 1.0, 2.0), "each value is either dropped (0) or kept and scaled (2); none stays at 1.")]
    for key, message in known:
        if len(key) == len(values) and np.allclose(key, values):
            return wrong(message)
    return wrong(f"{set(values)}: each value is either dropped or kept and scaled by 1 / (1 − rate).")


WHY_BOTH = ("Augmented pictures are random variations of the same 2,000 photos: they stay strongly correlated with "
            "the originals and bring no new information, so the network can still overfit, memorising what those "
            "photos happen to have in common. Dropout fights the overfitting that remains: at every step it zeroes "
            "a random half of the features, so the Dense layer cannot rely on any single one.")
WHY_IDEAS = [
    ("that augmented pictures are variations of the same photos (correlated, no new information)",
     ("correlat", "same photo", "same picture", "same image", "same cat", "same dog", "no new", "not new",
      "variation", "copies", "copy of", "similar", "derived", "originals")),
    ("the overfitting that remains",
     ("overfit", "over-fit", "memori", "generali", "과대적합")),
]


def check_why(answer):
    """06.5: free text on why dropout comes on top of augmentation, against its key ideas; shows the model answer."""
    return judge_text(as_text(answer), WHY_IDEAS, WHY_BOTH)


VALIDATION_CHOICES = {
    "a": "A better estimate of the accuracy on new photos, since there are more different validation pictures.",
    "b": "A number that changes from epoch to epoch even when the model does not, measured on distorted pictures "
         "unlike the photos the model will meet: no longer an estimate of its real accuracy.",
    "c": "The same as without augmentation, since the model never trains on validation data.",
    "d": "Higher, because augmentation prevents overfitting.",
}
VALIDATION_MISTAKES = {  # what each wrong letter misses
    "a": "augmentation makes no new information: distorted copies of 1,000 pictures do not estimate better how "
         "the model does on real photos, and the copies change every epoch.",
    "c": "the model does not train on them, but it is scored on them: rotated, sheared, zoomed pictures get other "
         "predictions than the real ones, and new ones every epoch.",
    "d": "augmentation fights overfitting when it changes the training data. On validation data it only changes "
         "what is measured.",
}


def check_validation(answer):
    """06.3: what augmenting the validation data would do to the validation score."""
    return judge_choice(
        answer, VALIDATION_CHOICES, "b",
        "validation data stands for the photos the model will meet: real, undistorted ones, the same "
        "every epoch so that epochs compare. Augmented validation pictures are random and distorted; the "
        "score would wobble and measure something else.", VALIDATION_MISTAKES)


exercise(
    id="06.1", title="Where dropout goes", kind="a Keras model",
    prompt="""### Exercise 06.1: where dropout goes

The MNIST convnet of listing 5.1 (notebook 02) ends with `Flatten` → `Dense(64, activation="relu")` →
`Dense(10, activation="softmax")`. Build it as a `keras.Sequential` on `keras.Input(shape=(28, 28, 1))`, with one
`Dropout(0.5)` where listing 5.13 puts it in the cats-and-dogs model. The convolution base is `Conv2D(32, (3, 3))`,
`MaxPooling2D((2, 2))`, `Conv2D(64, (3, 3))`, `MaxPooling2D((2, 2))`, `Conv2D(64, (3, 3))`, all with ReLU.""",
    starter="""answer = ...  # keras.Sequential([keras.Input(shape=(28, 28, 1)), ...your layers...])""",
    hint="In listing 5.13 the Dropout layer sits between Flatten and the first Dense layer.",
    explanation="""Listing 5.13 drops the flattened features, right before the dense classifier: during training
half of them are zeroed at random at each step, so the Dense layer cannot rely on any single one. The layer has no
weights: the model has exactly the parameters of listing 5.1 (93,322 with this classifier).""",
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
    id="06.5", title="Why dropout on top of augmentation", kind="a sentence",
    prompt="""### Exercise 06.5: why dropout on top of augmentation

The training pictures are already augmented, yet listing 5.13 adds `Dropout(0.5)` too. Why? Answer in a sentence
or two, as a string. The check looks for the key ideas and shows a model answer to compare with.""",
    starter='answer = ...  # a sentence or two, in quotes',
    hint="What is an augmented picture made from? Can a network still memorise 2,000 photos seen in many variants?",
    explanation=WHY_BOTH + """ The book says it in one line: the inputs the network sees are still heavily
intercorrelated, since they come from a small number of original images.""",
    solution_code="""answer = ("The augmented pictures are only variations of the same 2,000 photos, strongly "
          "correlated with them, so the network can still overfit; dropout fights the overfitting "
          "that remains.")""",
    checker=check_why)
