"""Profiles and paths: the book's numbers, the quick profile, environment variables."""
import re
from pathlib import Path

import numpy as np
import pytest

from helpers import config


def test_full_profile_is_the_books_setup():
    full = config.PROFILES["full"]
    # Chollet, section 5.2.2: 1000/500/500 per class; 5.2.5: 30 epochs, batch 20; 5.2.5 augmented: 100 epochs, batch 32.
    assert (full.train, full.validation, full.test) == (1000, 500, 500)
    assert (full.baseline_epochs, full.baseline_batch) == (30, 20)
    assert (full.augmented_epochs, full.augmented_batch) == (100, 32)
    assert full.per_class == 2000
    assert config.IMAGE_SIZE == (150, 150)


def test_quick_profile_is_small_and_short():
    quick = config.PROFILES["quick"]
    assert (quick.train, quick.validation, quick.test) == (100, 50, 50)
    assert quick.baseline_epochs == quick.augmented_epochs == 2
    assert quick.split_sizes() == {"train": 100, "validation": 50, "test": 50}


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    assert config.get_profile().name == "quick"
    monkeypatch.setenv("COURSE_PROFILE", " Full ")
    assert config.profile_name() == "full"
    monkeypatch.delenv("COURSE_PROFILE")
    assert config.profile_name() == "full"  # the book by default
    assert config.profile_name("quick") == "quick"  # an argument wins


def test_unknown_profile_names_the_fix(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "medium")
    with pytest.raises(ValueError, match="COURSE_PROFILE=quick"):
        config.get_profile()


def test_paths_follow_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("COURSE_MODELS_DIR", str(tmp_path / "m"))
    assert config.data_dir() == tmp_path / "d"
    assert config.models_dir() == tmp_path / "m"
    assert config.small_dataset_dir() == tmp_path / "d" / "cats_and_dogs_small"
    assert config.source_dir("synthetic") == tmp_path / "d" / "sources" / "synthetic"


def test_default_paths_are_inside_the_repository(monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR")
    monkeypatch.delenv("COURSE_MODELS_DIR")
    root = Path(__file__).resolve().parent.parent
    assert config.data_dir() == root / "data"
    assert config.models_dir() == root / "models"


def test_set_seed_makes_numpy_reproducible():
    config.set_seed(7)
    a = np.random.rand(3)
    config.set_seed(7)
    assert np.array_equal(a, np.random.rand(3))
    assert config.set_seed() == config.SEED


def test_banner_names_profile_and_versions():
    import keras
    import tensorflow as tf

    import helpers

    line = helpers.banner()
    assert "Profile: quick" in line and tf.__version__ in line and keras.__version__ in line
    assert "not prepared yet" in line  # no data in this test's folder


def test_korean_banner_under_course_lang_ko_and_the_same_english_line_otherwise(monkeypatch):
    import keras
    import tensorflow as tf

    import helpers

    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    gpus = tf.config.list_physical_devices("GPU")
    device = f"GPU x{len(gpus)}" if gpus else "CPU (oneDNN on)"
    monkeypatch.setenv("COURSE_LANG", "en")
    assert helpers.banner() == (
        "Profile: quick (tiny data and 2 epochs, for tests and a first look) | data: not prepared yet (run notebook 03 "
        f"or `make data`) | TensorFlow {tf.__version__}, Keras {keras.__version__} | device: {device}")
    monkeypatch.setenv("COURSE_LANG", "ko")
    line = helpers.banner()
    assert line.startswith("프로필: quick (") and "`make data`" in line and f"Keras {keras.__version__}" in line
    assert not re.search("[A-Za-z]{3,} [a-z]{3,}", line.replace("`make data`", "")), line  # no English prose left


def test_class_folders_and_kaggle_names_convert_both_ways():
    assert config.CLASSES == ("cats", "dogs") and config.KAGGLE_CLASSES == ("cat", "dog")
    assert [config.kaggle_prefix(c) for c in config.CLASSES] == ["cat", "dog"]
    assert [config.class_folder(p) for p in ("cat", "Dog", "CAT")] == ["cats", "dogs", "cats"]
    assert config.kaggle_name("dogs", 12) == "dog.12.jpg"


def test_profiles_take_keywords_only():
    quick = config.get_profile("quick")
    with pytest.raises(TypeError):
        config.Profile("x", 1, 1, 1, 1, 1, 1, 1, "positional")  # positional arguments: refused
    assert (quick.train, quick.validation, quick.test, quick.augmented_steps) == (100, 50, 50, None)
    assert config.get_profile("full").per_class == 2000 and config.get_profile("full").augmented_steps == 100
