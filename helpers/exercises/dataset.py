"""Exercises for notebook 03 (the data set): split sizes and indices, near-duplicates, counting the split."""
import numbers
import random
import re
from functools import cache
from pathlib import Path

from .. import config, data
from ..data.split import plan_split
from .answers import as_int, as_int_tuple, as_sequence, judge_choice, plain
from .core import Unreadable, exercise, first_match, judge_number, right, wrong
from .messages import messages, num

NOTEBOOK = "03"
FILE = "03_dataset.ipynb"
# What the exercises and their worked solutions use: the first cell of the notebook's exercises.
IMPORTS = """from helpers import config, exercises"""
INTRO = """## Exercises

Four exercises on the split: sizes, file indices, a trap with near-duplicate pictures, and the files on disk.
Replace each `...` with your answer and run the cell; `exercises.check` says whether it is right and, if not, what
your answer reveals. `exercises.hint("03.1")` gives a hint, `exercises.solution("03.1")` the worked solution (all
of them are in `solutions/03_dataset_solutions.ipynb`). The trap of 03.3 leads to a kind of 과대적합 (overfitting)
that the validation score cannot see."""

PER_CLASS = 2000
RATIOS = {"train": 0.70, "validation": 0.15, "test": 0.15}


def custom_profile(sizes):
    """A Profile with these per-class split sizes (the rest copied from quick)."""
    quick = config.get_profile("quick")
    return config.Profile(name="exercise", train=sizes["train"], validation=sizes["validation"], test=sizes["test"],
                          baseline_epochs=quick.baseline_epochs, baseline_batch=quick.baseline_batch,
                          augmented_epochs=quick.augmented_epochs, augmented_batch=quick.augmented_batch,
                          description="exercise 03")


def source_names(n=PER_CLASS):
    """A source in Kaggle's layout, by name only (nothing on disk): {cls: [Path('cat.0.jpg'), ...]}."""
    return {cls: [Path(config.kaggle_name(cls, i)) for i in range(n)] for cls in config.CLASSES}


def ratio_sizes(per_class=PER_CLASS):
    """Images per class in each folder for the 70/15/15 split."""
    return {split: round(per_class * share) for split, share in RATIOS.items()}


messages({
    "what.03.pictures": "a number of pictures",
    "what.03.files": "a number of files (a whole number)",
    "what.03.pair": "a pair (first index, last index)",
    "unit.files": " files",
    "03.1.keys": "the dict's keys are {keys}; use exactly 'train', 'validation', 'test'",
    "03.1.form": 'give a dict {{"train": ..., "validation": ..., "test": ...}} (or the three numbers in that order)',
    "03.1.fractions": "those are fractions: give numbers of pictures, e.g. 2,000 x 0.70",
    "03.1.right": "{truth} per class: 70 %, 15 % and 15 % of 2,000; 2,800 / 600 / 600 pictures in all.",
    "03.1.totals": "those are the totals of both classes; each class folder (train/cats, train/dogs, ...) gets half.",
    "03.1.book": "those are the book's sizes (50 / 25 / 25 %); the question asks for 70 / 15 / 15.",
    "03.1.halves": "that is half of each: 2,000 is already the count per class.",
    "03.1.sum": "your three numbers add up to {total}; the 2,000 pictures of a class are all used.",
    "03.1.ratio": "the numbers add up to 2,000 but not in the ratio 70 / 15 / 15: multiply 2,000 by each share.",
    "03.2.names": "give two indices (first, last), or two file names like 'cat.1400.jpg'",
    "03.2.dogs": "the question is about the cats: cat.N.jpg",
    "03.2.right": "cat.{first}.jpg to cat.{last}.jpg: the 300 files after the 1,400 training cats; the test cats "
                  "follow from cat.1700.jpg.",
    "03.2.end": "the end is one too far: 300 files starting at 1,400 end at 1,699 (a Python slice [1400:1700] stops "
                "before 1700).",
    "03.2.from1": "Kaggle's files are numbered from 0 (cat.0.jpg is the first), so the 1,400 training cats are "
                  "0-1399.",
    "03.2.book": "those are the book's validation cats (1,000 training pictures); here 1,400 go to training.",
    "03.2.from0": "the split takes files in index order: validation starts after the 1,400 training cats.",
    "03.2.both": "indices count per class: cat.N and dog.N run side by side from 0.",
    "03.2.other": "({first}, {last}) is not where the split puts them: first the training cats, then the "
                  "validation cats, in index order.",
})


def read_sizes(answer):
    """A {train, validation, test} dict of ints from a dict or a (train, validation, test) sequence or array."""
    if isinstance(answer, dict):
        keys = set(answer)
        if keys != set(config.SPLITS):
            raise Unreadable("03.1.keys", keys=sorted(map(str, keys)))
        values = [plain(answer[s]) for s in config.SPLITS]
    else:
        try:
            values = as_sequence(answer, "what.03.pictures")
        except Unreadable:
            raise Unreadable("03.1.form") from None
        if len(values) != 3:
            raise Unreadable("03.1.form")
    if all(isinstance(v, numbers.Real) and 0 < v < 1 for v in values):
        raise Unreadable("03.1.fractions")
    return dict(zip(config.SPLITS, (as_int(v, "what.03.pictures") for v in values)))


def check_sizes(answer):
    """03.1: per-class folder sizes for 70/15/15 of 2,000, as the book's slicing of the source gives them."""
    sizes = read_sizes(answer)
    truth = {s: len(plan_split(source_names(), custom_profile(ratio_sizes()))[(s, "cats")]) for s in config.SPLITS}
    if sizes == truth:
        return right("03.1.right", truth=truth)
    as_list = [sizes[s] for s in config.SPLITS]
    found = first_match(as_list, [
        ([2 * truth[s] for s in config.SPLITS], "03.1.totals"),
        ([1000, 500, 500], "03.1.book"),
        ([truth[s] // 2 for s in config.SPLITS], "03.1.halves"),
    ])
    if found:
        return wrong(found)
    total = sum(as_list)
    return wrong("03.1.sum", total=num(total)) if total != PER_CLASS else wrong("03.1.ratio")


def read_range(answer):
    """(first, last) indices from ints or from Kaggle file names like 'cat.1400.jpg'."""
    items = as_sequence(answer, "what.03.pair") if not isinstance(answer, str) else None
    if items and len(items) == 2 and all(isinstance(a, str) for a in items):
        found = [re.fullmatch(r"\s*(cat|dog)\.(\d+)\.jpe?g\s*", a) for a in items]
        if not all(found):
            raise Unreadable("03.2.names")
        if any(f[1] == "dog" for f in found):
            raise Unreadable("03.2.dogs")
        return tuple(int(f[2]) for f in found)
    return as_int_tuple(answer, 2, "what.03.pair")


def check_range(answer):
    """03.2: first and last index of the validation cats, from the split's own plan."""
    first, last = read_range(answer)
    plan = plan_split(source_names(), custom_profile(ratio_sizes()))[("validation", "cats")]
    truth = tuple(int(p.name.split(".")[1]) for p in (plan[0], plan[-1]))
    if (first, last) == truth:
        return right("03.2.right", first=truth[0], last=truth[1])
    found = first_match((first, last), [
        ((truth[0], truth[1] + 1), "03.2.end"),
        ((truth[0] + 1, truth[1] + 1), "03.2.from1"),
        ((1000, 1499), "03.2.book"),
        ((0, truth[1] - truth[0]), "03.2.from0"),
        ((2 * truth[0], 2 * truth[1] + 1), "03.2.both"),
    ])
    return wrong(found or "03.2.other", first=first, last=last)


# ------------------------------------------------------------------------------- 03.3 near-duplicates

CHOICES = {
    "a": "Nothing changes: random files are as good a sample as index blocks.",
    "b": "The validation accuracy comes out higher than on truly new photos: most validation pictures have a "
         "near-copy in the training folder.",
    "c": "The validation accuracy comes out lower: near-copies confuse the model.",
    "d": "The split stops with an error about duplicate pictures.",
}

messages({
    "03.3.right": "with 2,000 cats in bursts of 5, a random 1,000 / 500 split gives {random} of the validation cats a "
                  "sibling in training; the book's index blocks give {blocks}. The model is partly validated on "
                  "pictures it has as good as seen: the score flatters it.",
    "03.3.a": "random files are a fair sample only when pictures are independent. With bursts, a picture and its "
              "near-copy land in different folders, and validation measures memory, not generalisation.",
    "03.3.c": "the model is not confused by near-copies: it recognises them, having trained on their siblings. That "
              "makes the validation score too good, not too bad.",
    "03.3.d": "nothing checks for near-duplicates: the split copies files by name and runs fine, which is why this "
              "mistake is easy to miss.",
    "03.4.no_data": "there is no prepared split to compare with: run the cells above (or `make data`) first",
    "03.4.right": "{files} files: ({train} + {validation} + {test}) per class x 2 classes in the {profile} profile, "
                  "as the folders on disk hold.",
    "03.4.stale": "that is what the {profile} profile asks for, but the split on disk holds {files}: it was made for "
                  "another profile. Run `make data` (or the cells above) to rebuild it.",
    "03.4.one_class": "that is the files of one class, or of the two training folders ({train} cats + {train} "
                      "dogs): the split holds both classes, each in three folders, train, validation and test.",
    "03.4.no_test": "the test folder counts too.",
    "03.4.other_profile": "that is the {other} profile; the banner at the top says this notebook runs {profile}.",
})


@cache
def leaked_share(burst=5, seed=config.SEED):
    """(random split, index-block split): share of validation cats with a burst sibling in training."""
    source = source_names()
    names = source["cats"]
    profile = config.get_profile("full")
    burst_of = {p: int(p.name.split(".")[1]) // burst for p in names}
    blocks = plan_split(source, profile)
    shuffled = names[:]
    random.Random(seed).shuffle(shuffled)
    randomly = {"train": shuffled[:profile.train],
                "validation": shuffled[profile.train:profile.train + profile.validation]}

    def share(train, validation):
        seen = {burst_of[p] for p in train}
        return sum(burst_of[p] in seen for p in validation) / len(validation)
    return (share(randomly["train"], randomly["validation"]),
            share(blocks[("train", "cats")], blocks[("validation", "cats")]))


def check_duplicates(answer):
    """03.3: the near-duplicate trap, with the leak measured on a simulated source."""
    rand, block = leaked_share()
    return judge_choice(answer, CHOICES, "b", "03.3.right", {k: f"03.3.{k}" for k in "acd"},
                        random=f"{rand:.0%}", blocks=f"{block:.0%}")


def check_count(answer):
    """03.4: total images of the active profile's split, against the files on disk."""
    value = as_int(answer, "what.03.files")
    counts = data.split_counts()
    on_disk = sum(n for per in counts.values() for n in per.values())
    if on_disk == 0:
        raise Unreadable("03.4.no_data")
    profile = config.get_profile()
    fields = {"files": num(on_disk), "train": num(profile.train), "validation": num(profile.validation),
              "test": num(profile.test), "profile": profile.name}
    if value == on_disk:
        return right("03.4.right", **fields)
    if value == 2 * profile.per_class:
        return wrong("03.4.stale", **fields)
    mistakes = [(2 * (profile.train + profile.validation), "03.4.no_test")]
    if profile.per_class == 2 * profile.train:  # every course profile: one class = both training folders
        mistakes.append((profile.per_class, "03.4.one_class"))
    found = first_match(value, mistakes)
    if found:
        return wrong(found, **fields)
    for other in config.PROFILES.values():
        if other.name != profile.name and value == 2 * other.per_class:
            return wrong("03.4.other_profile", other=other.name, profile=profile.name)
    return judge_number(value, on_disk, "03.4.right", [], fields, "unit.files")


exercise(
    id="03.1", title="Split sizes for another ratio", kind="a dict",
    prompt="""### Exercise 03.1: split sizes for another ratio

A colleague wants a 70 % / 15 % / 15 % split (train / validation / test) of a source with 2,000 pictures per class,
keeping the book's rule. How many pictures go into each folder **of one class** (e.g. `train/cats`)? Answer with a
dict `{"train": ..., "validation": ..., "test": ...}`.""",
    hint="The shares apply to the 2,000 pictures of each class separately.",
    explanation="""Each class is split on its own: 0.70 · 2,000 = 1,400 training, 0.15 · 2,000 = 300 validation and
300 test pictures per class, so 2,800 / 600 / 600 in all. In `helpers.config` terms it is a `Profile` with
train=1400, validation=300, test=300.""",
    solution_code="""answer = {"train": round(2000 * 0.70),
          "validation": round(2000 * 0.15),
          "test": round(2000 * 0.15)}""",
    checker=check_sizes)

exercise(
    id="03.2", title="Which files land in validation", kind="a pair of indices",
    prompt="""### Exercise 03.2: which files land in validation

With that 70 / 15 / 15 split and the book's rule (in index order: training first, then validation, then test),
which cat files go into `validation/cats`? Answer with the pair `(first index, last index)`, e.g. `(5, 9)` for
`cat.5.jpg` to `cat.9.jpg`.""",
    hint="Kaggle numbers files from 0. Count how many cats training takes first; the last index of a block of n "
         "files starting at s is s + n − 1.",
    explanation="""Training takes the first 1,400 cats, `cat.0.jpg` to `cat.1399.jpg`. Validation takes the next 300:
`cat.1400.jpg` to `cat.1699.jpg` (in Python, `names[1400:1700]`: the slice stops before 1700). Test follows with
`cat.1700.jpg` to `cat.1999.jpg`.""",
    solution_code="""train, validation = 1400, 300
answer = (train, train + validation - 1)""",
    checker=check_range)

exercise(
    id="03.3", title="Random files and near-duplicates", kind="a letter",
    prompt="""### Exercise 03.3: random files and near-duplicates

Some photo sources hold bursts of near-identical pictures: the same cat shot 5 times in a row, saved under
consecutive numbers. Suppose the split drew its files **at random** instead of in index blocks. What happens?
Answer with one letter.

""" + "\n".join(f"- **{k}**: {v}" for k, v in CHOICES.items()),
    hint="Where do the 5 pictures of one burst end up with a random split, and where with index blocks? What does "
         "a model that memorised one of them do with the others?",
    explanation="""With a random split, the pictures of a burst scatter over the three folders: most validation
pictures then have a near-copy in training, which the model has memorised. The validation (and test) accuracy
measures memory and comes out higher than on truly new photos: a hidden overfitting. Index blocks keep a burst
together, except at the edge of a block. The same holds for any grouping: frames of one video, photos of one
animal; split by group, not by file.""",
    solution_code='answer = "b"',
    checker=check_duplicates)

exercise(
    id="03.4", title="Files in the split", kind="a number",
    prompt="""### Exercise 03.4: files in the split

Without listing any folder, compute how many image files the prepared `cats_and_dogs_small` split holds in total
(all three folders, both classes), for the profile this notebook runs (the banner at the top says which). Use
`config.get_profile()`; the check counts the files on disk.""",
    hint="A profile gives images per class for each folder (train, validation, test); there are two classes.",
    explanation="""`config.get_profile()` gives the active profile's sizes per class: `train + validation + test`
(its `per_class`), for each of the two classes. The quick profile holds 2 · (100 + 50 + 50) = 400 files, the full
profile 2 · (1,000 + 500 + 500) = 4,000. The check compares with `data.split_counts()`, which counts the files.""",
    solution_code="""profile = config.get_profile()
answer = 2 * (profile.train + profile.validation + profile.test)""",
    checker=check_count)
