"""Exercises for notebook 05 (data augmentation): write a generator, augmentations that hurt, shear, flips."""
import math
import numbers
from functools import cache

import numpy as np

from .answers import as_choices, as_int, as_number, plain
from .core import ANGLE_TOLERANCE, Unreadable, and_list, exercise, first_match, right, same, wrong
from .messages import messages, num, say

NOTEBOOK = "05"
FILE = "05_data_augmentation.ipynb"
# What the exercises and their worked solutions use: the first cell of the notebook's exercises.
IMPORTS = """import numpy as np
from tensorflow.keras.preprocessing.image import ImageDataGenerator

from helpers import exercises"""
INTRO = """## Exercises

Four exercises on 데이터 증식 (data augmentation) with `ImageDataGenerator`. Replace each `...` with your answer and
run the cell; `exercises.check` says whether it is right and, if not, what your answer reveals.
`exercises.hint("05.1")` gives a hint, `exercises.solution("05.1")` the worked solution (all of them are in
`solutions/05_data_augmentation_solutions.ipynb`)."""

WANTED = {"rotation_range": 20, "width_shift_range": 0.1, "zoom_range": 0.1, "horizontal_flip": True,
              "fill_mode": "constant", "cval": 0.0, "rescale": 1.0 / 255}
SEEDS = range(6)


def reference():
    """The generator exercise 05.1 describes, written with Keras."""
    from tensorflow.keras.preprocessing.image import ImageDataGenerator
    return ImageDataGenerator(**WANTED)


def test_picture(size=24, seed=5):
    """A small RGB picture with structure in every direction, in pixel units 0-255."""
    return np.random.default_rng(seed).uniform(0, 255, size=(size, size, 3)).astype("float32")


def outputs(datagen):
    """What a generator makes of the test picture with fixed seeds: transformed, then standardized."""
    x = test_picture()
    return np.stack([datagen.standardize(datagen.random_transform(x.copy(), seed=s)) for s in SEEDS])


messages({
    "05.1.dict": "that is a dict of settings: pass the generator itself, ImageDataGenerator(**settings)",
    "05.1.kind": "{kind} is not an ImageDataGenerator: write ImageDataGenerator(...) (from "
                 "tensorflow.keras.preprocessing.image)",
    "05.1.radians": "rotation_range is in degrees: 20, not 20° in radians",
    "05.1.rotation": "rotation_range is {value}; the description asks for up to 20 degrees either way",
    "05.1.pixels": "width_shift_range={value}: a value of 1 or more counts pixels; 10 % of the width is 0.1",
    "05.1.width": "the horizontal shift is width_shift_range=0.1 (10 % of the width)",
    "05.1.height": "there is no vertical shift: leave height_shift_range at 0",
    "05.1.height_for_width": "there is no vertical shift: leave height_shift_range at 0 (width_shift_range is the "
                             "horizontal one)",
    "05.1.zoom": "zoom_range gives [{low}, {high}]; one number z means [1 − z, 1 + z], so 90-110 % is zoom_range=0.1",
    "05.1.hflip": "left-right flips need horizontal_flip=True",
    "05.1.vflip": "vertical_flip=True turns pictures upside down; only left-right flips are asked for",
    "05.1.fill": "fill_mode='{mode}' invents the uncovered pixels; black needs fill_mode='constant'",
    "05.1.cval_white": "cval={value} fills the uncovered pixels with white; black is cval=0 (the default)",
    "05.1.cval_gray": "cval={value} fills the uncovered pixels with gray; black is cval=0 (the default)",
    "05.1.cval_other": "cval={value} is below black, not a colour of the picture; black is cval=0 (the default)",
    "05.1.rescale255": "rescale multiplies the pixels: 1./255, not 255",
    "05.1.rescale": "pixels go to [0, 1] with rescale=1./255",
    "05.1.extras": "nothing else is asked for: remove {names}",
    "05.1.slips_one": "1 setting to fix: {slips}.",
    "05.1.slips_many": "{count} settings to fix: {slips}.",
    "05.1.differ": "the settings above look right, but with fixed random seeds your generator does not make the "
                   "same pictures as the described one: compare {names} with the description.",
    "05.1.differ_unknown": "the settings look right, but with fixed random seeds your generator does not make the "
                           "same pictures as the described one: write a plain ImageDataGenerator(...) with only the "
                           "described arguments.",
    "05.1.right": "with the same random seeds your generator produces exactly the pictures the described one does: "
                  "rotation_range=20, width_shift_range=0.1, zoom_range=0.1, horizontal_flip=True, "
                  "fill_mode='constant' (cval=0) and rescale=1./255.",
})


def attribute_slips(g):
    """One message key and its fields per setting that differs from the described augmentation."""
    slips = []
    rotation = g.rotation_range
    if rotation != 20:
        in_radians = math.isclose(rotation, math.radians(20), rel_tol=1e-3)
        slips.append(("05.1.radians", {}) if in_radians else ("05.1.rotation", {"value": num(rotation)}))
    width, height = g.width_shift_range, g.height_shift_range
    if not (isinstance(width, numbers.Real) and math.isclose(width, 0.1)):
        slips.append(("05.1.pixels", {"value": num(width)}) if isinstance(width, numbers.Real) and width >= 1
                     else ("05.1.width", {}))
    if not (isinstance(height, numbers.Real) and height == 0):
        slips.append(("05.1.height_for_width" if isinstance(width, numbers.Real) and width == 0 else "05.1.height",
                      {}))
    if not np.allclose(g.zoom_range, [0.9, 1.1]):
        slips.append(("05.1.zoom", {"low": num(g.zoom_range[0]), "high": num(g.zoom_range[1])}))
    if not g.horizontal_flip:
        slips.append(("05.1.hflip", {}))
    if g.vertical_flip:
        slips.append(("05.1.vflip", {}))
    if g.fill_mode != "constant":
        slips.append(("05.1.fill", {"mode": g.fill_mode}))
    elif g.cval != 0:
        key = "05.1.cval_white" if g.cval >= 255 else "05.1.cval_gray" if g.cval > 0 else "05.1.cval_other"
        slips.append((key, {"value": num(g.cval)}))
    if g.rescale == 255:
        slips.append(("05.1.rescale255", {}))
    elif g.rescale is None or not math.isclose(g.rescale, 1 / 255, rel_tol=1e-3):
        slips.append(("05.1.rescale", {}))
    extras = [name for name in ("shear_range", "channel_shift_range", "samplewise_center", "featurewise_center",
                                "samplewise_std_normalization", "featurewise_std_normalization", "zca_whitening")
              if getattr(g, name)]
    if g.brightness_range is not None:
        extras.append("brightness_range")
    if extras:
        slips.append(("05.1.extras", {"names": ", ".join(extras)}))
    return slips


def differing_settings(g):
    """The names of the generator's settings that differ from the described generator's."""
    mine, want = vars(g), vars(reference())
    names = []
    for name in sorted(set(mine) | set(want)):
        a, b = mine.get(name), want.get(name)
        try:
            equal = a is b or bool(np.all(np.asarray(a) == np.asarray(b)))
        except Exception:  # values that do not compare (functions): differ unless the same object
            equal = False
        if not equal:
            names.append(name)
    return names


def check_generator(answer):
    """05.1: the learner's ImageDataGenerator against the described one: settings, then fixed-seed outputs."""
    from tensorflow.keras.preprocessing.image import ImageDataGenerator
    if isinstance(answer, dict):
        raise Unreadable("05.1.dict")
    if not isinstance(answer, ImageDataGenerator):
        raise Unreadable("05.1.kind", kind=type(answer).__name__)
    slips = attribute_slips(answer)
    if slips:
        text = "; ".join(say(key, **fields) for key, fields in slips)
        return wrong("05.1.slips_one" if len(slips) == 1 else "05.1.slips_many", count=len(slips), slips=text)
    if not same(outputs(answer), outputs(reference()), 1e-4):
        names = differing_settings(answer)
        return wrong("05.1.differ", names=and_list(names)) if names else wrong("05.1.differ_unknown")
    return right("05.1.right")


DIGIT_CHOICES = {
    "a": "width_shift_range=0.1",
    "b": "horizontal_flip=True",
    "c": "rotation_range=180",
    "d": "zoom_range=0.1",
}
HURTS = {"b", "c"}

messages({
    "05.2.why_a": "a 10 % shift keeps a digit readable: MNIST digits are centred, but not exactly",
    "05.2.why_b": "a mirrored 2, 3, 4, 5, 7 or 9 is no digit at all, and nobody writes mirrored digits",
    "05.2.why_c": "a rotation by up to 180° turns a 6 into a 9 (and back), so the label becomes wrong",
    "05.2.why_d": "a 10 % zoom keeps a digit a digit: handwriting comes in sizes",
    "05.2.hurts": "{letter} hurts too: {why}",
    "05.2.harmless": "{letter} is harmless: {why}",
    "05.2.wrong": "{lines}.",
    "05.2.right": "b and c: {why_b}; {why_c}. Augmentation must keep the label true: for cats and dogs a mirror "
                  "image is still the same animal, for digits it is not.",
})


def check_digits(answer):
    """05.2: the augmentations that change what a handwritten digit means."""
    picked = as_choices(answer, DIGIT_CHOICES, many=True)
    if picked == HURTS:
        return right("05.2.right", why_b=say("05.2.why_b"), why_c=say("05.2.why_c"))
    lines = [say("05.2.hurts", letter=k, why=say(f"05.2.why_{k}")) for k in sorted(HURTS - picked)]
    lines += [say("05.2.harmless", letter=k, why=say(f"05.2.why_{k}")) for k in sorted(picked - HURTS)]
    return wrong("05.2.wrong", lines="; ".join(lines))


@cache
def keras_shear_shift(degrees, size=150):
    """How far Keras' strongest shear moves a vertical bar's top against its bottom, in pixels (as notebook 05)."""
    from tensorflow.keras.preprocessing.image import ImageDataGenerator
    bar = np.zeros((size, size, 1), np.float32)
    bar[:, size // 2 - 5:size // 2 + 5] = 255
    sheared = ImageDataGenerator(fill_mode="constant").apply_transform(bar, {"shear": degrees})[..., 0]
    centre = (sheared * np.arange(size)).sum(1) / sheared.sum(1)
    return float(np.ptp(centre))


messages({
    "what.05.degrees": "an angle in degrees",
    "what.05.pictures": "a number of pictures",
    "05.3.right": "{value}: 0.2 radians is 0.2 · 180 / π = {truth} degrees. On a 150-pixel picture the strongest "
                  "shear moves a vertical bar's top about {shift} pixels against its bottom; shear_range=0.2 moves "
                  "it {small}.",
    "05.3.as_degrees": "read as degrees since Keras 2.1.3, 0.2 shears by at most 0.2°: about half a pixel on a "
                       "150-pixel picture. Convert the book's radians to degrees.",
    "05.3.wrong_way": "that converts the wrong way (0.2 degrees in radians): degrees = radians · 180 / π.",
    "05.3.no_pi": "you forgot π: degrees = radians · 180 / π.",
    "05.3.full_turn": "a full turn is 2π radians: degrees = radians · 180 / π.",
    "05.3.more": "{value} degrees is more than the book's 0.2 radians ({truth}°, give or take {tolerance}°); "
                 "degrees = radians · 180 / π.",
    "05.3.less": "{value} degrees is less than the book's 0.2 radians ({truth}°, give or take {tolerance}°); "
                 "degrees = radians · 180 / π.",
    "05.4.infinite": "a flip is a coin toss: flipped or not, two outcomes. Rotations, shifts and zooms draw from a "
                     "continuous range: those make endless variants.",
    "05.4.right": "{truth}: over 40 random draws Keras makes only the original and its mirror image. Flips alone "
                  "double the data set, no more: the continuous transformations supply the variety.",
    "05.4.one": "about half of the draws are flipped: the mirror image is a second picture.",
    "05.4.four": "horizontal_flip only mirrors left-right; upside-down is vertical_flip, which is off.",
    "05.4.many": "{value} is too many: each draw either flips or not.",
    "05.4.few": "{value} is too few: each draw either flips or not.",
})


def check_shear(answer):
    """05.3: the shear_range (degrees) that matches the book's 0.2 radians, within ANGLE_TOLERANCE."""
    value = as_number(answer, "what.05.degrees")
    truth = math.degrees(0.2)
    fields = {"value": num(value), "truth": f"{truth:.2f}", "tolerance": num(ANGLE_TOLERANCE)}
    if abs(value - truth) <= ANGLE_TOLERANCE:
        return right("05.3.right", shift=f"{keras_shear_shift(truth):.0f}", small=f"{keras_shear_shift(0.2):.1f}",
                     **fields)
    found = first_match(value, [
        (0.2, "05.3.as_degrees"),
        (math.radians(0.2), "05.3.wrong_way"),
        (0.2 * 180, "05.3.no_pi"),
        (0.2 * 360, "05.3.full_turn"),
    ], tol=1e-3)
    return wrong(found or ("05.3.more" if value > truth else "05.3.less"), **fields)


@cache
def distinct_flips(draws=40):
    """How many different pictures ImageDataGenerator(horizontal_flip=True) makes of one picture."""
    from tensorflow.keras.preprocessing.image import ImageDataGenerator
    g, x = ImageDataGenerator(horizontal_flip=True), test_picture(6)
    return len({g.random_transform(x.copy(), seed=s).tobytes() for s in range(draws)})


def check_flips(answer):
    """05.4: distinct outputs of horizontal flips alone, counted over 40 random draws."""
    answer = plain(answer)
    if isinstance(answer, numbers.Real) and math.isinf(answer):
        return wrong("05.4.infinite")
    value = as_int(answer, "what.05.pictures")
    truth = distinct_flips()
    if value == truth:
        return right("05.4.right", truth=truth)
    key = {1: "05.4.one", 4: "05.4.four"}.get(value, "05.4.many" if value > truth else "05.4.few")
    return wrong(key, value=num(value))


exercise(
    id="05.1", title="Write the generator", kind="an ImageDataGenerator",
    prompt="""### Exercise 05.1: write the generator

Write the `ImageDataGenerator` that rotates pictures by up to 20 degrees either way, shifts them horizontally by up
to 10 % of the width (no vertical shift), zooms between 90 % and 110 %, flips them left-right, fills the uncovered
pixels with black, and rescales the pixels to [0, 1]; nothing else. The check compares its settings, then the
pictures it makes with fixed random seeds, with the described generator.""",
    starter="""answer = ...  # ImageDataGenerator(...) with your arguments""",
    hint="Shifts and zoom are fractions (0.1 is 10 %); rotation is in degrees; black is fill_mode='constant' "
         "with cval=0; rescale multiplies the pixels.",
    explanation="""`rotation_range` is in degrees (20), `width_shift_range` a fraction of the width (0.1; a value
of 1 or more would count pixels), `zoom_range=0.1` means [0.9, 1.1], `horizontal_flip=True` flips half of the
pictures left-right, `fill_mode="constant"` fills with `cval`, 0 by default (black), and `rescale=1./255`
multiplies every pixel after the transformation.""",
    solution_code="""answer = ImageDataGenerator(rotation_range=20, width_shift_range=0.1, zoom_range=0.1,
                            horizontal_flip=True, fill_mode="constant", cval=0, rescale=1./255)""",
    checker=check_generator)

exercise(
    id="05.2", title="Augmentations that hurt a digit classifier", kind="letters",
    prompt="""### Exercise 05.2: augmentations that hurt a digit classifier

For a classifier of handwritten digits (MNIST), which of these settings would **hurt**? Answer with the letters,
e.g. `{"a", "d"}`.

""" + "\n".join(f"- **{k}**: `{v}`" for k, v in DIGIT_CHOICES.items()),
    starter="""answer = ...  # a set of letters, e.g. {"a", "d"}""",
    hint="Apply each one to a 6, a 2 and a 7 in your head: is it still the same digit?",
    explanation="""An augmentation must keep the label true. Small shifts and zooms keep a digit what it is.
A horizontal flip makes mirrored 2s, 3s and 7s, which no test image contains; a rotation by up to 180° turns a 6
into a 9. For cats and dogs a flipped picture is still the same animal, which is why the book flips them.""",
    solution_code="""answer = {"b", "c"}""",
    checker=check_digits)

exercise(
    id="05.3", title="The book's shear in degrees", kind="a number",
    prompt="""### Exercise 05.3: the book's shear in degrees

The book wrote `shear_range=0.2`, meaning 0.2 radians. What `shear_range` gives the same strongest shear in
today's Keras, which reads it in degrees? Answer with a number; within 0.2 degrees is close enough.""",
    hint="A full turn is 2π radians or 360 degrees.",
    explanation="""degrees = radians · 180 / π, so 0.2 rad = 11.46°: the course writes `shear_range=11.5`. Read as
degrees, the book's 0.2 shears a 150-pixel picture by about half a pixel, which is no augmentation at all.""",
    solution_code="""answer = np.degrees(0.2)""",
    checker=check_shear)

exercise(
    id="05.4", title="How many pictures does a flip make", kind="a number",
    prompt="""### Exercise 05.4: how many pictures does a flip make

How many **different** pictures can `ImageDataGenerator(horizontal_flip=True)` (and nothing else) make from one
picture, however often you draw? The check counts what Keras makes over 40 random draws.""",
    hint="Each draw makes one yes-or-no decision.",
    explanation="""Each draw flips the picture left-right with probability 1/2 and nothing else: two possible
outcomes, the original and its mirror image. Rotations, shifts, shear and zoom draw from continuous ranges and make
a new variant almost every time; that variety is what keeps a small data set from being memorised.""",
    solution_code="""answer = 2  # flipped or not""",
    checker=check_flips)
