"""Shared fixtures: every test gets its own data and models folders, never the learner's."""

import numpy as np
import pytest
from PIL import Image

from helpers import config


@pytest.fixture(autouse=True)
def course_env(tmp_path, monkeypatch):
    """Quick profile, data and models in a temporary folder for each test."""
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COURSE_MODELS_DIR", str(tmp_path / "models"))
    return tmp_path


def write_split(root, per_split=None, size=(64, 48), seed=0):
    """Write a small {train,validation,test}/{cats,dogs} folder of random JPEGs; return root."""
    per_split = per_split or {"train": 6, "validation": 4, "test": 4}
    rng = np.random.default_rng(seed)
    index = {cls: 0 for cls in config.CLASSES}
    for split, n in per_split.items():
        for cls in config.CLASSES:
            folder = root / split / cls
            folder.mkdir(parents=True, exist_ok=True)
            for _ in range(n):
                pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / config.kaggle_name(cls, index[cls]), quality=90)
                index[cls] += 1
    return root


@pytest.fixture
def tiny_split(tmp_path):
    """A tiny random-image split in cats_and_dogs_small's layout (not the synthetic set)."""
    return write_split(tmp_path / "data" / "cats_and_dogs_small")


@pytest.fixture
def quick_split(tmp_path):
    """A split on disk with the quick profile's folder sizes, for exercise 03.4 (which counts files, not pixels)."""
    root = tmp_path / "data" / config.SMALL_DATASET
    for split, n in config.get_profile("quick").split_sizes().items():
        for cls in config.CLASSES:
            folder = root / split / cls
            folder.mkdir(parents=True)
            for i in range(n):
                (folder / config.kaggle_name(cls, i)).touch()
    return root


@pytest.fixture
def server():
    """A download server on 127.0.0.1 (tests/archive_server.py), stopped after the test."""
    from archive_server import ArchiveServer

    with ArchiveServer() as s:
        yield s


@pytest.fixture
def kaggle_split(archives, capsys):
    """A complete quick split made by `data` from the test module's Kaggle archive; returns its snapshot."""
    from test_faults import snapshot

    from helpers.__main__ import main

    assert main(["data", "--source", "kaggle", "--archive", str(archives["kaggle"][0])]) == 0
    capsys.readouterr()
    shot = snapshot(config.small_dataset_dir())
    assert len(shot) == 401
    return shot
