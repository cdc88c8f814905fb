"""Profiles, paths and seeds: every setting a notebook or command reads lives here."""
import os
import random
from dataclasses import dataclass
from pathlib import Path

SEED = 1337
IMAGE_SIZE = (150, 150)
# The two classes: the split's folder name -> the prefix of Kaggle's file names (cat.0.jpg). Labels follow
# this order (cats 0, dogs 1), as flow_from_directory sorts the folders.
CLASS_PREFIXES = {"cats": "cat", "dogs": "dog"}
CLASSES = tuple(CLASS_PREFIXES)  # the split's class folders
KAGGLE_CLASSES = tuple(CLASS_PREFIXES.values())  # the prefixes in a Kaggle-layout file name
SPLITS = ("train", "validation", "test")
SMALL_DATASET = "cats_and_dogs_small"


@dataclass(frozen=True, kw_only=True)
class Profile:
    """Sizes and schedule for one way of running the course."""

    name: str
    train: int  # images per class
    validation: int
    test: int
    baseline_epochs: int
    baseline_batch: int
    augmented_epochs: int
    augmented_batch: int
    description: str
    # Batches per epoch in notebooks 06 and 08; None: one pass over the training images.
    augmented_steps: "int | None" = None

    @property
    def per_class(self):
        """Images per class the split needs from the source."""
        return self.train + self.validation + self.test

    def split_sizes(self):
        """Images per class for each split, as a dict."""
        return {"train": self.train, "validation": self.validation, "test": self.test}


PROFILES = {
    "full": Profile(name="full", train=1000, validation=500, test=500,
                    baseline_epochs=30, baseline_batch=20, augmented_epochs=100, augmented_batch=32,
                    augmented_steps=100, description="the book's sizes and epochs"),
    "quick": Profile(name="quick", train=100, validation=50, test=50,
                     baseline_epochs=2, baseline_batch=20, augmented_epochs=2, augmented_batch=32,
                     description="tiny data and 2 epochs, for tests and a first look"),
}
DEFAULT_PROFILE = "full"


def kaggle_prefix(cls):
    """The file-name prefix of a class folder: 'cats' -> 'cat' (Kaggle's cat.N.jpg)."""
    return CLASS_PREFIXES[cls]


def kaggle_name(cls, index):
    """Kaggle's file name of image `index` of a class folder: ('cats', 12) -> 'cat.12.jpg'."""
    return f"{kaggle_prefix(cls)}.{index}.jpg"


def class_folder(prefix):
    """The class folder of a Kaggle file-name prefix, any case: 'Cat' -> 'cats'."""
    return CLASSES[KAGGLE_CLASSES.index(prefix.lower())]


def profile_name(name=None):
    """The active profile's name: the argument, else COURSE_PROFILE, else 'full'."""
    name = (name or os.environ.get("COURSE_PROFILE") or DEFAULT_PROFILE).strip().lower()
    if name not in PROFILES:
        raise ValueError(f"Unknown profile {name!r}: use one of {', '.join(PROFILES)} "
                         "(set COURSE_PROFILE=quick or COURSE_PROFILE=full).")
    return name


LANGUAGES = ("en", "ko")  # the course's languages: English, and the Korean edition in notebooks/ko/


def language(name=None):
    """The language of the course's messages: the argument, else COURSE_LANG, else 'en'."""
    name = (name or os.environ.get("COURSE_LANG") or LANGUAGES[0]).strip().lower()
    if name not in LANGUAGES:
        raise ValueError(f"Unknown language {name!r}: use one of {', '.join(LANGUAGES)} "
                         "(set COURSE_LANG=en or COURSE_LANG=ko).")
    return name


def get_profile(name=None):
    """The active Profile (see profile_name)."""
    return PROFILES[profile_name(name)]


def repo_root():
    """The course repository's top folder."""
    return Path(__file__).resolve().parent.parent


def _folder_setting(variable, default):
    """The folder an environment variable names, else repo/default; a relative one is read from the repository.

    `make` runs in the repository's top folder and a notebook's kernel in notebooks/: resolving against the
    repository (never the current folder) makes both mean the same folder. A variable naming something that
    is not a folder is a clear error.
    """
    path = Path(os.path.expanduser(os.environ.get(variable) or default))
    path = (repo_root() / path).resolve() if not path.is_absolute() else path.resolve()
    if path.exists() and not path.is_dir():
        option = " (or --data-dir)" if variable == "COURSE_DATA_DIR" else ""
        named = f"{variable}{option} names {path}" if os.environ.get(variable) else f"{path} exists"
        raise ValueError(f"{named}, which is a file, not a folder: point {variable}{option} at a folder (it is "
                         "created if missing)" + (f", or unset it to use {repo_root() / default}."
                                                  if os.environ.get(variable) else "; move the file away."))
    return path


def data_dir():
    """Where data lives: COURSE_DATA_DIR (relative: to the repository), else <repo>/data."""
    return _folder_setting("COURSE_DATA_DIR", "data")


def models_dir():
    """Where trained models and histories live: COURSE_MODELS_DIR (relative: to the repository), else <repo>/models."""
    return _folder_setting("COURSE_MODELS_DIR", "models")


def small_dataset_dir():
    """The book's split: <data>/cats_and_dogs_small/{train,validation,test}/{cats,dogs}."""
    return data_dir() / SMALL_DATASET


def source_dir(source):
    """Where a source's images live once prepared, in Kaggle's layout (train/cat.N.jpg)."""
    return data_dir() / "sources" / source


def set_seed(seed=None):
    """Seed Python, NumPy and Keras (TensorFlow) from one number."""
    seed = SEED if seed is None else seed
    random.seed(seed)
    import numpy as np
    np.random.seed(seed)
    import keras
    keras.utils.set_random_seed(seed)
    return seed
