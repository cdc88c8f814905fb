"""The synthetic data set: reproducible, Kaggle-named, varied, and not separable by colour."""
import hashlib

import numpy as np
import pytest
from PIL import Image

from helpers import synthetic

PER_CLASS = 100


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """One synthetic set shared by the tests of this module (both cores)."""
    dest = tmp_path_factory.mktemp("synthetic")
    synthetic.generate(dest, PER_CLASS, seed=3, workers=2, progress=False)
    return dest / "train"


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.jpg"))}


def test_kaggle_names_for_both_classes(drawn):
    names = {p.name for p in drawn.iterdir()}
    assert names == {f"{c}.{i}.jpg" for c in ("cat", "dog") for i in range(PER_CLASS)}


def test_files_are_valid_jpegs_of_varied_size(drawn):
    sizes = []
    for path in sorted(drawn.glob("*.jpg")):
        with Image.open(path) as img:
            img.verify()
        with Image.open(path) as img:
            assert img.format == "JPEG" and img.mode == "RGB"
            sizes.append(img.size)
    widths, heights = np.array(sizes).T
    assert widths.min() >= 200 and widths.max() <= 500 and heights.min() >= 200 and heights.max() <= 500
    assert len(set(sizes)) > 0.9 * len(sizes)  # sizes vary
    aspect = widths / heights
    assert aspect.min() < 0.8 and aspect.max() > 1.25  # portrait and landscape


def test_same_seed_same_files_for_any_worker_count(drawn, tmp_path):
    synthetic.generate(tmp_path, 6, seed=3, workers=1, progress=False)
    again = digest(tmp_path / "train")
    first = digest(drawn)
    assert again == {name: first[name] for name in again}


def test_other_seed_other_images(drawn, tmp_path):
    synthetic.generate(tmp_path, 3, seed=4, workers=1, progress=False)
    first = digest(drawn)
    assert all(first[name] != h for name, h in digest(tmp_path / "train").items())


def test_start_continues_the_same_sequence(drawn, tmp_path):
    synthetic.generate(tmp_path, 2, seed=3, workers=1, start=PER_CLASS - 2, progress=False)
    first = digest(drawn)
    assert digest(tmp_path / "train") == {n: first[n] for n in digest(tmp_path / "train")}
    assert {p.name for p in (tmp_path / "train").iterdir()} == {
        f"{c}.{i}.jpg" for c in ("cat", "dog") for i in (PER_CLASS - 2, PER_CLASS - 1)}


def load_small(paths):
    """Images as 64x64 RGB uint8 arrays."""
    return [np.asarray(Image.open(p).convert("RGB").resize((64, 64))) for p in paths]


def colour_histograms(arrays, bins=8):
    """A bins**3 joint RGB histogram per image (normalised, square-rooted), plus the channel means."""
    feats = []
    for arr in arrays:
        q = (arr // (256 // bins)).reshape(-1, 3).astype(np.int64)
        hist = np.bincount(q[:, 0] * bins * bins + q[:, 1] * bins + q[:, 2], minlength=bins ** 3)
        feats.append(np.concatenate([np.sqrt(hist / len(q)), arr.reshape(-1, 3).mean(0) / 255]))
    return np.array(feats)


def held_out_accuracy(features, labels):
    """Mean 5-fold accuracy of a standardised logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=3000))
    return cross_val_score(model, features, labels, cv=5).mean()


def test_colour_alone_does_not_tell_cats_from_dogs(drawn):
    paths = [drawn / f"{c}.{i}.jpg" for c in ("cat", "dog") for i in range(PER_CLASS)]
    labels = np.array([0] * PER_CLASS + [1] * PER_CLASS)
    arrays = load_small(paths)
    assert held_out_accuracy(colour_histograms(arrays), labels) < 0.65
    # The same probe does catch a colour cue when there is one: give the dogs a orange cast.
    cast = np.array([255, 128, 0], dtype=np.float32)
    tinted = [a if y == 0 else (0.8 * a + 0.2 * cast).astype(np.uint8) for a, y in zip(arrays, labels)]
    assert held_out_accuracy(colour_histograms(tinted), labels) > 0.8
