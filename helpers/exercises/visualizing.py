"""Exercises for notebook 07 (what the convnet learned): activation shapes, edge detectors, Grad-CAM, blank channels."""
from functools import cache

import numpy as np

from .. import models, ops
from .answers import as_callable, as_number, as_sequence, as_shape, call, describe, judge_choice, plain
from .core import Unreadable, exercise, first_match, judge_shape, right, unanswered, wrong
from .messages import messages, num, say

NOTEBOOK = "07"
FILE = "07_what_the_convnet_learned.ipynb"
# What the exercises and their worked solutions use: the first cell of the notebook's exercises.
IMPORTS = """import numpy as np

from helpers import exercises"""
INTRO = """## Exercises

Four exercises on the activations the notebook showed. Each layer's output is a 특성 맵 (feature map) with one
channel per filter. Replace each `...` with your answer and run the cell; `exercises.check` says whether it is right
and, if not, what your answer reveals. `exercises.hint("07.1")` gives a hint, `exercises.solution("07.1")` the
worked solution (all of them are in `solutions/07_what_the_convnet_learned_solutions.ipynb`). None of them needs the
trained model."""

FEATURE_TYPES = ("Conv2D", "MaxPooling2D")


@cache
def feature_shapes():
    """(layer type, output shape without batch) of listing 5.5's eight Conv2D/MaxPooling2D layers, from Keras."""
    return tuple((type(layer).__name__, tuple(int(d) for d in layer.output.shape[1:]))
                 for layer in models.build_baseline().layers if type(layer).__name__ in FEATURE_TYPES)


messages({
    "07.1.right": "{truth}: 150 → 148 → 74 → 72 → 36 → 34, with the third Conv2D's 128 filters. Each of its 128 "
                  "channels is one small picture in the activation grid.",
    "07.1.other_layer": "that is the output of layer {number} ({kind}); count from 1 and include the pooling layers: "
                        "Conv2D, MaxPooling2D, Conv2D, MaxPooling2D, Conv2D, ...",
    "07.1.input": "36x36 is that layer's input: a 3x3 'valid' Conv2D removes 2 pixels per side.",
    "07.1.filters": "a Conv2D's depth is its own number of filters: the third Conv2D has 128.",
})


def check_activation_shape(answer):
    """07.1: the fifth feature layer's activation shape, from the Keras model."""
    shape = as_shape(answer, 3)
    shapes = feature_shapes()
    truth = shapes[4][1]
    others = {s: (i + 1, kind) for i, (kind, s) in reversed(list(enumerate(shapes))) if i != 4}
    if shape in others:
        number, kind = others[shape]
        return wrong("07.1.other_layer", number=number, kind=kind)
    mistakes = [((36, 36, 128), "07.1.input"), (truth[:2] + (64,), "07.1.filters")]
    return judge_shape(shape, truth, "07.1.right", mistakes, {"truth": truth}, axes=("height", "width", "channels"))


EDGE_CHOICES = {
    "a": "the first Conv2D",
    "b": "the last Conv2D",
    "c": "the last MaxPooling2D",
    "d": "all of them equally",
}

messages({
    "07.2.right": "the first Conv2D: its 3x3 filters see 3x3 pixels, just enough for an edge or a colour, and its "
                  "148x148 activations still look like the picture, lit along edges of one direction or one colour "
                  "each.",
    "07.2.b": "the last Conv2D sees {field}x{field}-pixel windows of the picture and combines the patterns of the "
              "layers below: its 15x15 activations are abstract (an ear, an eye) and mostly blank.",
    "07.2.c": "after four poolings a channel is 7x7: too coarse to show edges; it says whether a large pattern is "
              "present in each region.",
    "07.2.d": "the layers differ: activations grow more abstract and sparser with depth; only the first layers keep "
              "the picture's edges and colours.",
})


def check_edges(answer):
    """07.2: which layer's activations look like edge detectors."""
    field = ops.receptive_field([(3, 1), (2, 2)] * 3 + [(3, 1)])
    return judge_choice(answer, EDGE_CHOICES, "a", "07.2.right", {k: f"07.2.{k}" for k in "bcd"}, field=field)


messages({
    "07.3.channels": "a heatmap has no channel axis: Grad-CAM weighs the last Conv2D's channels and sums them into "
                     "one 2D map (height, width).",
    "07.3.right": "{truth}: the last Conv2D's grid (15x15, before the last pooling). The heatmap is then resized to "
                  "150x150 to lay over the picture.",
    "07.3.pooled": "that is after the last pooling; Grad-CAM reads the last Conv2D, one layer earlier.",
    "07.3.resized": "that is after resizing the heatmap to lay it over the picture; it is computed on the last "
                    "Conv2D's grid.",
    "07.3.first": "that is the first Conv2D's grid; Grad-CAM uses the last one, whose channels stand for whole parts "
                  "of a cat or dog.",
    "07.3.vgg16": "14x14 is the grid of VGG16's last Conv2D on a 224x224 picture, the book's Grad-CAM example; this "
                  "notebook's model is the 150x150 convnet of listing 5.5, whose last Conv2D gives 15x15.",
})


def check_gradcam(answer):
    """07.3: the Grad-CAM heatmap's shape: the last Conv2D's grid, from the Keras model."""
    answer = plain(answer)
    try:
        items = as_sequence(answer, "shape.example2")
    except Unreadable:
        items = None
    if items is not None and len(items) == 3 and items[0] is not None:
        return wrong("07.3.channels")
    shape = as_shape(answer, 2)
    shapes = feature_shapes()
    last_conv = [s for kind, s in shapes if kind == "Conv2D"][-1][:2]
    mistakes = [(shapes[-1][1][:2], "07.3.pooled"), ((150, 150), "07.3.resized"), (shapes[0][1][:2], "07.3.first"),
                ((14, 14), "07.3.vgg16")]
    return judge_shape(shape, last_conv, "07.3.right", mistakes, {"truth": last_conv}, axes=("height", "width"))


# ------------------------------------------------------------------------------- 07.4 blank channels

NEARLY = (0.7, 0.01, 1e-5)  # what the single unit that fired outputs in a nearly blank channel: not blank


def activation_cases(seed=7):
    """Hidden test activations (h, w, c) after a ReLU, with blank channels and nearly blank ones (one unit fired)."""
    rng = np.random.default_rng(seed)
    cases = []
    layouts = [((6, 5, 8), (1, 4), (6,)), ((3, 3, 4), (), (0,)), ((4, 7, 16), (0, 3, 5, 9, 15), (2, 8, 11))]
    for shape, blank, nearly in layouts:
        act = np.maximum(rng.normal(size=shape), 0)
        act[:, :, list(blank)] = 0
        for c, fired in zip(nearly, NEARLY):
            act[:, :, c] = 0
            act[shape[0] // 2, shape[1] // 2, c] = fired  # one position fired, however little: not blank
        act[0, :, :] = 0  # a blank row in every channel: counts for nothing
        cases.append(act)
    return cases


messages({
    "what.07.count": "a count",
    "07.4.raised": "on {where} your function raised {error}",
    "07.4.none": "blank_channels returns None: write its body, ending with `return` and the count.",
    "07.4.not_number": "on {where} your function returned {got}, which is not a number: return the count, e.g. "
                       "int(...).",
    "07.4.where": "an activation of shape {shape}",
    "07.4.some_zero": "on {where} you count channels with some zero; a blank channel is zero everywhere (its maximum "
                      "is 0).",
    "07.4.share": "on {where} your function returns the share of blank channels; return how many there are.",
    "07.4.axis": "you counted along the wrong axis: channels are the last axis, (height, width, channels); take the "
                 "maximum over axes 0 and 1.",
    "07.4.threshold": "on {where} you count {value} blank channels, there are {truth}: a channel in which a single "
                      "unit fired, however weakly (here {weak}), is not blank. Count the channels whose maximum is "
                      "exactly 0, with no threshold.",
    "07.4.other": "on {where} your function says {value}, there are {truth} blank channels.",
    "07.4.right": "on 3 hidden activations (with blank rows, and channels where a single unit fired, one of them by "
                  "only 0.00001) your function counts the blank channels exactly as ops.dead_channels does.",
})


def check_blank(answer):
    """07.4: the learner's blank-channel counter against ops.dead_channels on hidden activations; exact counts."""
    fn = as_callable(answer, "blank_channels")
    for act in activation_cases():
        where = say("07.4.where", shape=act.shape)
        out, error = call(fn, act)
        if error:
            return wrong("07.4.raised", where=where, error=error)
        if out is None:
            return unanswered("07.4.none")
        try:
            value = as_number(out, "what.07.count")
        except Unreadable:
            return wrong("07.4.not_number", where=where, got=describe(out))
        truth = ops.dead_channels(act)
        if value == truth:
            continue
        slip = first_match(value, [
            (int((act <= 0).reshape(-1, act.shape[-1]).any(axis=0).sum()), "07.4.some_zero"),
            (truth / act.shape[-1], "07.4.share"),
            (int((act.max(axis=(1, 2)) <= 0).sum()), "07.4.axis"),
            (int((act.max(axis=(0, 2)) <= 0).sum()), "07.4.axis"),
        ])
        weak = sorted(m for m in act.max(axis=(0, 1)) if 0 < m < 1)  # the nearly blank channels' maxima
        extra = int(value - truth) if value == int(value) else 0
        if slip is None and 0 < extra <= len(weak):
            slip = "07.4.threshold"
        return wrong(slip or "07.4.other", where=where, value=num(value), truth=truth,
                     weak=num(weak[extra - 1]) if 0 < extra <= len(weak) else "")
    return right("07.4.right")


exercise(
    id="07.1", title="The shape of an activation", kind="a shape",
    prompt="""### Exercise 07.1: the shape of an activation

`im.feature_layers(model)` lists the eight `Conv2D` and `MaxPooling2D` layers of the 150x150 model. What is the
shape of the **fifth** one's activation (the third `Conv2D`), as `im.activations` returns it (no batch axis)?
Answer with a tuple `(height, width, channels)`.""",
    hint="Each 3x3 'valid' Conv2D removes 2 pixels per side, each 2x2 pooling halves (rounding down); the channels "
         "are the Conv2D's filters: 32, 64, 128, 128.",
    explanation="""The side goes 150 → 148 (conv 1) → 74 (pool 1) → 72 (conv 2) → 36 (pool 2) → 34 (conv 3), and
the third Conv2D has 128 filters: (34, 34, 128). The activation grid of the notebook shows its 128 channels as
128 small 34x34 pictures.""",
    solution_code="""side = 150
for kind in ["conv", "pool", "conv", "pool", "conv"]:
    side = side - 2 if kind == "conv" else side // 2
answer = (side, side, 128)""",
    checker=check_activation_shape)

exercise(
    id="07.2", title="Which layer finds edges", kind="a letter",
    prompt="""### Exercise 07.2: which layer finds edges

In the activation grids, which layer's channels look most like edge detectors, still showing the picture with its
edges of one direction (or one colour) lit up? Answer with one letter.

""" + "\n".join(f"- **{k}**: {v}" for k, v in EDGE_CHOICES.items()),
    hint="How much of the picture does one unit of each layer see, and how large is its grid?",
    explanation="""The first Conv2D's filters see 3x3 pixels: enough for an edge, a colour, a small texture, not
for an ear. Its 148x148 activations keep the picture's layout, each channel lighting up along one kind of edge.
Deeper layers combine these into larger, more abstract patterns (the last Conv2D sees 38x38 pixels of the input on a
15x15 grid), and more and more of their channels stay blank for a given picture.""",
    solution_code='answer = "a"',
    checker=check_edges)

exercise(
    id="07.3", title="The Grad-CAM grid", kind="a shape",
    prompt="""### Exercise 07.3: the Grad-CAM grid

Before it is resized to lay over the picture, what shape does the Grad-CAM heatmap of the 150x150 model have?
Answer with a tuple `(height, width)`.""",
    hint="Grad-CAM weighs the channels of the last Conv2D layer and sums them.",
    explanation="""Grad-CAM weighs each channel of the **last Conv2D** by the mean gradient of the class score and
sums the weighted channels: one 2D map on that layer's grid, 15x15 (148 → 74 → 72 → 36 → 34 → 17 → 15). It is
then resized to 150x150 for display, which is why the heatmaps look blocky. (The book's Grad-CAM runs on VGG16,
whose last Conv2D gives 14x14 on a 224x224 picture.)""",
    solution_code="""answer = (15, 15)  # the last Conv2D's output grid""",
    checker=check_gradcam)

exercise(
    id="07.4", title="Counting blank channels", kind="a function",
    prompt="""### Exercise 07.4: counting blank channels

The notebook's table counts "blank channels": channels of an activation `(height, width, channels)` that are 0 at
every position for this picture (ReLU units that never fired). Write `blank_channels(activation)` that returns
that count for a NumPy array. The check runs it on hidden activations.""",
    starter="""def blank_channels(activation):
    ...  # your code: return the number of blank channels
""",
    name="blank_channels",
    hint="Take each channel's maximum over height and width (axes 0 and 1); a blank channel's maximum is 0.",
    explanation="""A channel is blank when its largest value is 0 (a ReLU output is never negative): take the
maximum over the height and width axes and count the channels where it is ≤ 0. A channel with a single non-zero
position is not blank: some unit fired. `helpers.ops.dead_channels` does the same.""",
    solution_code="""def blank_channels(activation):
    return int((activation.max(axis=(0, 1)) <= 0).sum())""",
    checker=check_blank)
