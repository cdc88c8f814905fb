"""helpers.digits: MNIST found in Keras' cache or downloaded (loopback, a small file in MNIST's format), else the drawn
digits, the same on every machine."""
import hashlib
import importlib.util
import io
import re
from pathlib import Path

import numpy as np
import pytest

from helpers import digits
from helpers.data import download as dl

# Keras' own loader, read as text (never imported): its address and checksum are the ones to match
KERAS_MNIST = Path(importlib.util.find_spec("keras").origin).parent / "src" / "datasets" / "mnist.py"


def tiny_mnist(n_train=30, n_test=10, seed=0):
    """The bytes of an .npz in MNIST's format (uint8 28x28 images, uint8 labels), n images per part."""
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
                        y_train=rng.integers(0, 10, n_train, dtype=np.uint8),
                        x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
                        y_test=rng.integers(0, 10, n_test, dtype=np.uint8))
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No real Keras cache or data folder; retries without pauses."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(dl, "BACKOFF", 0.01)
    monkeypatch.setattr(dl, "CHUNK", 4 << 10)
    digits._last.clear()


def test_url_and_checksum_are_keras_own():
    """The address and SHA-256 are those keras.datasets.mnist.load_data() uses (read from its source, not imported)."""
    if not KERAS_MNIST.is_file():
        pytest.skip("this Keras keeps its MNIST loader elsewhere")
    source = KERAS_MNIST.read_text(encoding="utf-8")
    folder = re.search(r'origin_folder = \(\s*"([^"]+)"', source)[1]
    assert folder + "mnist.npz" == digits.MNIST_URL
    assert re.search(r'"([0-9a-f]{64})"', source)[1] == digits.MNIST_SHA256


def test_download_verifies_resumes_and_is_then_used(server):
    data = tiny_mnist()
    url = server.add("mnist.npz", data)
    server.then("mnist.npz", ("drop", 5000))  # the first answer breaks off after 5,000 bytes: resumed
    path = digits.download_mnist(url=url, sha256=hashlib.sha256(data).hexdigest(), progress=False)
    assert path == digits.course_copy() and path.read_bytes() == data
    first, again = server.ranges("mnist.npz")
    assert first is None and again.startswith("bytes=") and again != "bytes=0-"  # resumed, not restarted
    (x, _y), (xt, _yt) = digits.load("quick", sha256=hashlib.sha256(data).hexdigest())
    assert x.shape == (30, 28, 28) and xt.shape == (10, 28, 28) and x.dtype == np.uint8
    assert digits.source_used() == digits.MNIST and "MNIST (from the course's data folder)" in digits.data_line()


def test_a_file_with_another_checksum_is_set_aside(server):
    url = server.add("mnist.npz", tiny_mnist())
    with pytest.raises(dl.VerificationError, match="sha256"):
        digits.download_mnist(url=url, progress=False)  # Keras' checksum: a tiny file cannot match it
    assert not digits.course_copy().exists()
    assert digits.course_copy().with_name("mnist.npz.bad").exists()


def test_a_file_not_in_mnists_format_is_set_aside(server):
    data = b"not an npz" * 100
    url = server.add("mnist.npz", data)
    with pytest.raises(dl.VerificationError, match=r"NumPy \.npz"):
        digits.download_mnist(url=url, sha256=hashlib.sha256(data).hexdigest(), progress=False)
    assert digits.course_copy().with_name("mnist.npz.bad").exists()


def test_keras_cache_is_found_first(tmp_path):
    data = tiny_mnist(seed=1)
    cached = digits.keras_cache()
    cached.parent.mkdir(parents=True)
    cached.write_bytes(data)
    assert digits.find_mnist(hashlib.sha256(data).hexdigest()) == cached
    assert digits.find_mnist() is None  # Keras' own checksum: this file is not MNIST


def test_without_mnist_the_drawn_digits(monkeypatch):
    monkeypatch.setitem(digits.SIZES, "quick", (50, 20))
    (x, y), (xt, _yt) = digits.load("quick")
    assert digits.source_used() == digits.DRAWN and "drawn digits" in digits.data_line()
    assert x.shape == (50, 28, 28) and xt.shape == (20, 28, 28) and x.dtype == y.dtype == np.uint8
    assert set(np.unique(y)) <= set(range(10)) and x.max() > 150
    cache = next((digits.config.data_dir() / "digits").glob("*.npz"))
    assert digits.npz_problem(cache) is None
    (x2, _), _ = digits.load("quick")  # read back from the data folder: the same images
    assert np.array_equal(x, x2)


def test_drawn_digits_are_reproducible_and_prefix_stable():
    x, y = digits.drawn_set(12, "train")
    x5, y5 = digits.drawn_set(5, "train")
    assert np.array_equal(x[:5], x5) and np.array_equal(y[:5], y5)
    xt, _ = digits.drawn_set(5, "test")
    assert not np.array_equal(x[:5], xt)  # training and test images come from different streams
    # centred by mass like MNIST, inside the 28x28 frame
    rows, cols = np.indices((28, 28))
    for image in x.astype(float):
        assert abs((rows * image).sum() / image.sum() - 13.5) < 1.5
        assert abs((cols * image).sum() / image.sum() - 13.5) < 1.5
        ring = image.sum() - image[1:-1, 1:-1].sum()
        assert ring < 0.02 * image.sum()  # almost no ink on the frame's outer pixels


def test_drawn_digits_fingerprint():
    """The same pixels on every machine and version: a change to the drawing is a new data set (new reference runs)."""
    x, y = digits.drawn_set(20, "train")
    assert y.tolist() == FINGERPRINT_LABELS
    assert hashlib.sha256(x.tobytes()).hexdigest()[:16] == FINGERPRINT


FINGERPRINT_LABELS = [4, 5, 2, 2, 1, 3, 3, 8, 7, 6, 5, 0, 4, 6, 7, 1, 2, 2, 7, 1]
FINGERPRINT = "a80bc5dddef4c68c"


def test_recorded_runs_make_the_books_point():
    """Notebook 01's prose: three seeds of each model on the drawn digits, every convnet above every dense network,
    each on at least 10,000 test images."""
    from helpers import references

    runs = references.digit_runs(digits.DRAWN)
    assert len(runs["convnet"]) >= 3 and len(runs["dense"]) >= 3
    assert all(r["test"]["images"] >= 10_000 for r in runs["convnet"] + runs["dense"])
    assert min(r["test"]["accuracy"] for r in runs["convnet"]) > max(r["test"]["accuracy"] for r in runs["dense"])
    assert {r["parameters"] for r in runs["convnet"]} == {93_322}
    assert {r["parameters"] for r in runs["dense"]} == {407_050}
    line = references.digits_expected_line(digits.DRAWN)
    assert line.startswith("Recorded full runs on the drawn digits (3 seeds each)") and "0.993" in line
    assert "No full runs" in references.digits_expected_line(digits.MNIST)


def test_a_run_without_validation_is_recorded_with_its_model():
    """benchmarks/record_run.py takes benchmarks/digits_runs.py's results: no validation curves, the model in the id."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks import record_run

    result = {"notebook": "01_convolution.ipynb", "run": None, "model": "dense", "profile": "full",
              "source": "drawn", "seed": 7, "epochs": 2, "batch_size": 128, "steps_per_epoch": 469,
              "machine": "AMD EPYC, 2 cores (CPU only)", "versions": {}, "parameters": 407_050,
              "test": {"accuracy": 0.98, "loss": 0.06, "images": 10_000}, "fit_seconds": 20.0,
              "accuracy": [0.9, 0.95], "loss": [0.3, 0.2], "how": "benchmarks/digits_runs.py", "note": "",
              "book": "test accuracy 0.978 on MNIST (section 5.1)"}
    entry = record_run.from_reference(result, "2026-12-07")
    assert entry["id"] == "01-drawn-cpu-s7-dense" and entry["model"] == "dense" and "val_accuracy" not in entry
    assert entry["book"].startswith("test accuracy 0.978") and entry["label"].endswith(", dense")
