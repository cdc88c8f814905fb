"""Exercises for notebook 04 (the baseline): reading a history, a variant's parameters, steps per epoch, labels."""
import tempfile
from functools import cache
from pathlib import Path

import numpy as np

from .. import models, ops
from .answers import as_int, as_number, as_sequence
from .core import Unreadable, exercise, first_match, judge_number, quietly, right, wrong
from .messages import messages, num

NOTEBOOK = "04"
FILE = "04_baseline_convnet.ipynb"
# What the exercises and their worked solutions use: the first cell of the notebook's exercises.
IMPORTS = """import numpy as np

from helpers import exercises, ops, plots"""
INTRO = """## Exercises

Four exercises on the baseline: reading 과대적합 (overfitting) off a history, the parameters of a variant, the
number of batches in an epoch, and where the labels come from. Replace each `...` with your answer and run the
cell; `exercises.check` says whether it is right and, if not, what your answer reveals. `exercises.hint("04.1")`
gives a hint, `exercises.solution("04.1")` the worked solution (all of them are in
`solutions/04_baseline_convnet_solutions.ipynb`)."""

# A 15-epoch history shaped like the book's baseline (figure 5.9-5.10): validation loss lowest at epoch 5.
HISTORY = {
    "accuracy": [0.52, 0.60, 0.66, 0.70, 0.74, 0.78, 0.81, 0.85, 0.88, 0.91, 0.93, 0.95, 0.97, 0.98, 0.99],
    "loss": [0.69, 0.65, 0.60, 0.56, 0.51, 0.46, 0.41, 0.36, 0.30, 0.25, 0.20, 0.15, 0.11, 0.08, 0.05],
    "val_accuracy": [0.55, 0.60, 0.65, 0.68, 0.70, 0.70, 0.71, 0.72, 0.71, 0.71, 0.70, 0.71, 0.70, 0.71, 0.71],
    "val_loss": [0.69, 0.66, 0.62, 0.59, 0.57, 0.58, 0.60, 0.59, 0.63, 0.66, 0.70, 0.74, 0.80, 0.85, 0.92],
}


def history():
    """A copy of the exercise's history dict (what `model.fit(...).history` holds)."""
    return {k: list(v) for k, v in HISTORY.items()}


messages({
    "what.04.epoch": "an epoch number (a whole number)",
    "what.04.params": "a parameter count (a whole number)",
    "what.04.pair": "a pair (batches with batch 25, batches with batch 32)",
    "what.04.batches": "a number of batches",
    "what.04.label": "a label, 0 or 1",
    "04.1.right": "epoch {best}: the validation loss is lowest there ({loss}) and climbs afterwards while the "
                  "training loss keeps falling; from then on the model learns its training pictures rather than "
                  "cats and dogs.",
    "04.1.index": "that is the index np.argmin gives; Keras counts epochs from 1 (Epoch 1/15), so add 1.",
    "04.1.late": "at that epoch the validation loss has already gone up: the question asks for its lowest point, the "
                 "last epoch before it climbs.",
    "04.1.accuracy": "that is where the validation accuracy peaks. On a small validation set the accuracy is noisy "
                     "(it moves by one picture at a time); the validation loss shows the turn more clearly, as the "
                     "book reads it.",
    "04.1.last": "the training accuracy and loss keep improving to the last epoch: that is exactly what overfitting "
                 "looks like. The turning point shows on the validation curves.",
    "04.2.right": "{truth}: the last Conv2D drops to 3·3·128·64 + 64 = 73,792 and Flatten to 7·7·64 = 3,136 inputs, "
                  "so Dense(512) has 1,606,144. Halving the last layer's filters halves the Dense layer, which holds "
                  "most of the weights.",
    "04.2.baseline": "that is the baseline's count ({baseline}); the variant has 64 filters in its last Conv2D.",
    "04.2.dense_same": "the last Conv2D is right, but the Dense layer shrinks too: Flatten now gives 7·7·64 = 3,136 "
                       "inputs instead of 6,272.",
    "04.2.conv_same": "the Dense layer is right, but the last Conv2D has fewer weights too: 3·3·128·64 + 64.",
    "04.2.no_bias": "those are the weights without the biases: every filter and every Dense unit has one.",
    "04.2.dense_only": "that is the Dense(512) layer alone; the question asks for the whole network.",
    "04.2.no_output": "the output layer Dense(1) has 512 weights and a bias too.",
    "04.3.form": "give both numbers as a pair: (batches with batch 25, batches with batch 32)",
    "04.3.right": "({first}, {second}): 2,000 / 25 = 80 batches exactly; 2,000 / 32 = 62.5, so 62 full batches and "
                  "a last one of 16 pictures: 63. len(generator) says the same.",
    "04.3.fraction": "a step is a whole batch: the half batch at the end is one more step (63).",
    "04.3.floor": "62 batches of 32 leave 16 pictures out; Keras serves them as a last, smaller batch: 63.",
    "04.3.book": "the book's steps_per_epoch=100 counted batches of an endless generator; one pass over the data is "
                 "ceil(images / batch).",
    "04.3.swapped": "the pair is the other way round: first batch 25, then batch 32.",
    "04.3.second": "{first} is right for batch 25; for batch 32, 2,000 / 32 is not a whole number: a partial last "
                   "batch counts as a batch.",
    "04.3.other": "({first}, {second}): divide the 2,000 images by the batch size; a partial last batch counts as a "
                  "batch.",
    "04.4.text_number": "{answer} is text (in quotes): write the number itself, answer = {number}",
    "04.4.name": "{answer} is a folder name; the labels flow_from_directory gives are the numbers 0 and 1",
    "04.4.right": "{truth}: Keras numbers the class folders in alphabetical order, and 'puppies' comes before "
                  "'tomcats'. Dogs are now 0 and the sigmoid's output is the probability of a cat.",
    "04.4.range": "with class_mode='binary' a label is 0 or 1, not {value}.",
    "04.4.animal": "Keras does not know which folder holds dogs: it numbers the folders in alphabetical order, and "
                   "'puppies' < 'tomcats'. The label follows the name, not the animal.",
})


def check_epoch(answer):
    """04.1: the epoch with the lowest validation loss, counted from 1."""
    value = as_int(answer, "what.04.epoch")
    best = int(np.argmin(HISTORY["val_loss"])) + 1
    last = len(HISTORY["loss"])
    mistakes = [
        (best - 1, "04.1.index"),
        (best + 1, "04.1.late"),
        (int(np.argmax(HISTORY["val_accuracy"])) + 1, "04.1.accuracy"),
        (last, "04.1.last"),
    ]
    return judge_number(value, best, "04.1.right", mistakes, {"best": best, "loss": min(HISTORY["val_loss"])})


# ------------------------------------------------------------------------------- 04.2 a variant's parameters

def variant(last_filters=64, units=512):
    """Listing 5.5 with last_filters in the fourth Conv2D and `units` in the Dense layer."""
    import keras
    from keras import layers
    stack = [keras.Input(shape=models.INPUT_SHAPE)]
    for filters in (32, 64, 128, last_filters):
        stack += [layers.Conv2D(filters, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2))]
    return keras.Sequential(stack + [layers.Flatten(), layers.Dense(units, activation="relu"),
                                     layers.Dense(1, activation="sigmoid")])


@cache
def variant_counts(last_filters=64):
    """(parameters, biases) of the variant and the baseline's parameters, as Keras counts them."""
    model = variant(last_filters)
    biases = sum(layer.bias.shape[0] for layer in model.layers if getattr(layer, "bias", None) is not None)
    return model.count_params(), biases, models.build_baseline().count_params()


def check_variant(answer):
    """04.2: total parameters of listing 5.5 with 64 filters in the last Conv2D, counted by Keras; exact."""
    value = as_int(answer, "what.04.params")
    truth, biases, baseline = variant_counts(64)
    mistakes = [
        (baseline, "04.2.baseline"),
        (baseline - ops.conv_params(3, 3, 128, 128) + ops.conv_params(3, 3, 128, 64), "04.2.dense_same"),
        (baseline - ops.conv_params(1, 1, 6272, 512) + ops.conv_params(1, 1, 3136, 512), "04.2.conv_same"),
        (truth - biases, "04.2.no_bias"),
        (ops.conv_params(1, 1, 3136, 512), "04.2.dense_only"),
        (truth - 513, "04.2.no_output"),
    ]
    return judge_number(value, truth, "04.2.right", mistakes, {"truth": num(truth), "baseline": num(baseline)})


# ------------------------------------------------------------------------------- 04.3 steps per epoch

@cache
def keras_steps(n_images, batch_size):
    """Batches in one pass, as len() of a Keras image iterator over n_images says."""
    from tensorflow.keras.preprocessing.image import ImageDataGenerator
    return len(ImageDataGenerator().flow(np.zeros((n_images, 1, 1, 3)), batch_size=batch_size, shuffle=False))


def check_steps(answer):
    """04.3: batches per pass over 2,000 images with batch 25 and 32, against Keras' iterator."""
    try:
        items = as_sequence(answer, "what.04.pair")
    except Unreadable:
        raise Unreadable("04.3.form") from None
    if len(items) != 2:
        raise Unreadable("04.3.form")
    values = tuple(as_number(v, "what.04.batches") for v in items)
    truth = (keras_steps(2000, 25), keras_steps(2000, 32))
    fields = {"first": num(values[0]), "second": num(values[1])}
    if values == truth:
        return right("04.3.right", **fields)
    found = first_match(values, [
        ((2000 / 25, 2000 / 32), "04.3.fraction"),
        ((2000 // 25, 2000 // 32), "04.3.floor"),
        ((100, 100), "04.3.book"),
        (truth[::-1], "04.3.swapped"),
    ])
    if found:
        return wrong(found, **fields)
    return wrong("04.3.second" if values[0] == truth[0] else "04.3.other", **fields)


# ------------------------------------------------------------------------------- 04.4 labels from folders

@cache
def label_of(folder, folders=("puppies", "tomcats")):
    """The label flow_from_directory gives pictures in `folder`, on a tiny temporary copy of that layout."""
    from PIL import Image
    from tensorflow.keras.preprocessing.image import ImageDataGenerator
    with tempfile.TemporaryDirectory() as tmp:
        for name in folders:
            (Path(tmp) / name).mkdir()
            Image.new("RGB", (4, 4)).save(Path(tmp) / name / "x.png")
        flow = quietly(ImageDataGenerator().flow_from_directory, tmp, target_size=(4, 4), class_mode="binary")
        return flow.class_indices[folder]


def check_label(answer):
    """04.4: the label of a dog once the folders are renamed, as Keras gives it."""
    if isinstance(answer, str):
        cleaned = answer.strip()
        if cleaned.lstrip("-").isdigit():
            raise Unreadable("04.4.text_number", answer=repr(answer), number=int(cleaned))
        raise Unreadable("04.4.name", answer=repr(answer))
    value = as_int(answer, "what.04.label")
    truth = label_of("puppies")
    if value == truth:
        return right("04.4.right", truth=truth)
    if value not in (0, 1):
        return wrong("04.4.range", value=num(value))
    return wrong("04.4.animal")


exercise(
    id="04.1", title="Reading overfitting off a history", kind="a number",
    prompt="""### Exercise 04.1: reading overfitting off a history

`history = exercises.material("04.1")` is the `history.history` dict of a 15-epoch run (`accuracy`, `loss`,
`val_accuracy`, `val_loss`, one value per epoch; `plots.plot_history(history)` draws it). At which epoch does the
validation loss reach its lowest point, after which the model overfits? Count epochs from 1, as Keras' progress
bar does.""",
    starter="""history = exercises.material("04.1")
answer = ...  # an epoch number, counted from 1""",
    hint="np.argmin(history['val_loss']) gives an index counted from 0.",
    explanation="""The validation loss falls until epoch 5 (0.57) and then climbs, while the training loss keeps
falling to the last epoch: from epoch 5 on, the model learns its training pictures rather than what makes a cat a
cat. `np.argmin` gives the index 4; Keras counts epochs from 1. The validation accuracy wobbles by a point or two
on a small validation set (its best value is at epoch 8), which is why the book reads the turn on the loss.""",
    solution_code="""history = exercises.material("04.1")
answer = int(np.argmin(history["val_loss"])) + 1""",
    checker=check_epoch, material=history)

exercise(
    id="04.2", title="Parameters of a variant network", kind="a number",
    prompt="""### Exercise 04.2: parameters of a variant network

Take listing 5.5's network and give its **last** `Conv2D` 64 filters instead of 128; everything else stays. How
many parameters does the whole network have? Compute it (with the formulas or `ops.conv_params`) before building
the model.""",
    hint="Two layers change: the last Conv2D (3·3·128 weights per filter, plus a bias) and the Dense(512), whose "
         "inputs are 7·7·(filters of the last Conv2D).",
    explanation="""The first three Conv2D layers keep 896 + 18,496 + 73,856 parameters. The last one has
3·3·128·64 + 64 = 73,792. Its 7x7x64 output flattens to 3,136 numbers, so Dense(512) has (3,136 + 1)·512 =
1,606,144 and the output layer 513: 1,773,697 in all, about half the baseline's 3,453,121, because the Dense
layer, which holds most of the parameters, halves.""",
    solution_code="""convs = ops.conv_params(3, 3, 3, 32) + ops.conv_params(3, 3, 32, 64) \\
    + ops.conv_params(3, 3, 64, 128) + ops.conv_params(3, 3, 128, 64)
dense = (7 * 7 * 64 + 1) * 512 + (512 + 1)
answer = convs + dense""",
    checker=check_variant)

exercise(
    id="04.3", title="Batches in one epoch", kind="a pair of numbers",
    prompt="""### Exercise 04.3: batches in one epoch

The training folder holds 2,000 pictures. How many batches make one pass over them with `batch_size=25`, and with
`batch_size=32` (what `len(train_generator)` would say, and the `steps_per_epoch` that means one pass)? Answer with
the pair `(steps with 25, steps with 32)`.""",
    hint="ceil(images / batch): a last, smaller batch still counts.",
    explanation="""2,000 / 25 = 80 batches exactly. 2,000 / 32 = 62.5: 62 full batches and a last one of 16 pictures,
so 63 steps, `math.ceil(2000 / 32)`. That is why the book's `steps_per_epoch=100` with batch 32 does not fit a
finite Keras 3 iterator: it runs out after 63 batches.""",
    solution_code="""import math
answer = (math.ceil(2000 / 25), math.ceil(2000 / 32))""",
    checker=check_steps)

exercise(
    id="04.4", title="Where labels come from", kind="0 or 1",
    prompt="""### Exercise 04.4: where labels come from

You rename the class folders `cats` → `tomcats` and `dogs` → `puppies` (in `train/` and `validation/`) and
build the generators as above. Which label does `flow_from_directory(..., class_mode="binary")` now give a **dog**
picture: 0 or 1?""",
    hint="flow_from_directory does not know what the pictures show; how does it order the folder names?",
    explanation="""`flow_from_directory` numbers the class folders in alphabetical order (`class_indices` shows
it): 'puppies' < 'tomcats', so dogs get 0 and cats 1. Nothing else changes, but the sigmoid's output now means
"probability of a cat", and code that reads it as P(dog) silently inverts every prediction.""",
    solution_code="""answer = sorted(["tomcats", "puppies"]).index("puppies")""",
    checker=check_label)
