"""Reference runs of notebook 01: listing 5.1-5.3's convnet and chapter 2's dense network on the digits, by seed.

    python benchmarks/digits_runs.py --seeds 1337 1 2 --out build/digits-runs      # both models, the drawn digits
    python benchmarks/record_run.py --results build/digits-runs/runs.json --date YYYY-MM-DD

Each run builds the model exactly as the notebook's cells do (the book's layers, rmsprop, categorical
cross-entropy; the convnet 5 epochs of batches of 64, the dense network 5 of 128), seeds Keras with the run's
seed, trains on the full profile's 60,000 images and evaluates on the 10,000 test images. `--data sklearn` runs
the alternative that was measured against the drawn digits (benchmarks/README.md): scikit-learn's 1,797 scanned
8x8 digits, resized to 20x20 in 28x28 and distorted, the test images from other scans than the training ones.
"""
import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.common import cpu_model  # noqa: E402
from helpers import book, digits  # noqa: E402
from helpers.files import write_json_atomic  # noqa: E402

SCHEDULE = {"convnet": (5, 64), "dense": (5, 128)}  # epochs, batch size: listing 5.3 and chapter 2


def sklearn_digits(n_train, n_test, seed=digits.DRAWN_SEED):
    """scikit-learn's scans resized to 20x20, centred in 28x28, each copy distorted; test from held-out scans."""
    from PIL import Image
    from sklearn.datasets import load_digits

    scans = load_digits()
    order = np.random.default_rng(seed).permutation(len(scans.images))
    held_out = order[:600]  # 600 scans for the test images, the other 1,197 for training
    parts = {"train": order[600:], "test": held_out}

    def make(n, part, stream):
        pool = parts[part]
        x, y = np.empty((n, 28, 28), np.uint8), np.empty(n, np.uint8)
        for i in range(n):
            rng = np.random.default_rng([seed, stream, i])
            k = pool[rng.integers(len(pool))]
            img = Image.fromarray((scans.images[k] * 255 / 16).astype(np.uint8)).resize((20, 20),
                                                                                       Image.Resampling.BICUBIC)
            canvas = Image.new("L", (28, 28))
            canvas.paste(img, (4, 4))
            a, sh = np.radians(rng.normal(0, 9)), rng.normal(0, 0.2)
            sx, sy = rng.uniform(0.85, 1.1), rng.uniform(0.85, 1.1)
            m = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) @ np.array([[1, sh], [0, 1]]) @ np.diag(
                [sx, sy])
            inv = np.linalg.inv(m)
            c = np.array([13.5, 13.5])
            off = c - inv @ c + rng.normal(0, 0.7, 2)
            canvas = canvas.transform((28, 28), Image.Transform.AFFINE,
                                      (inv[0, 0], inv[0, 1], off[0], inv[1, 0], inv[1, 1], off[1]),
                                      resample=Image.Resampling.BILINEAR)
            x[i], y[i] = np.asarray(canvas), scans.target[k]
        return x, y

    return make(n_train, "train", 0), make(n_test, "test", 1)


def build(kind):
    """The notebook's model: listings 5.1-5.2's convnet or chapter 2's dense network, compiled as there."""
    import keras
    from keras import layers, models

    model = models.Sequential()
    if kind == "convnet":
        model.add(keras.Input(shape=(28, 28, 1)))
        model.add(layers.Conv2D(32, (3, 3), activation='relu'))
        model.add(layers.MaxPooling2D((2, 2)))
        model.add(layers.Conv2D(64, (3, 3), activation='relu'))
        model.add(layers.MaxPooling2D((2, 2)))
        model.add(layers.Conv2D(64, (3, 3), activation='relu'))
        model.add(layers.Flatten())
        model.add(layers.Dense(64, activation='relu'))
        model.add(layers.Dense(10, activation='softmax'))
    else:
        model.add(keras.Input(shape=(28 * 28,)))
        model.add(layers.Dense(512, activation='relu'))
        model.add(layers.Dense(10, activation='softmax'))
    model.compile(optimizer='rmsprop', loss='categorical_crossentropy', metrics=['accuracy'])
    return model


def run(kind, seed, data, source):
    import keras
    import tensorflow as tf
    from keras.utils import to_categorical

    (train_images, train_labels), (test_images, test_labels) = data
    shape = (28, 28, 1) if kind == "convnet" else (28 * 28,)
    x_train = train_images.reshape((len(train_images), *shape)).astype('float32') / 255
    x_test = test_images.reshape((len(test_images), *shape)).astype('float32') / 255
    y_train, y_test = to_categorical(train_labels), to_categorical(test_labels)
    keras.utils.set_random_seed(seed)
    model = build(kind)
    epochs, batch_size = SCHEDULE[kind]
    start = time.time()
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=2)
    fit_seconds = time.time() - start
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    return {
        # run: None, no saved model (listing 5.3 saves none); model: which of the two
        "notebook": "01_convolution.ipynb", "run": None, "model": kind, "profile": "full", "source": source,
        "seed": seed, "epochs": epochs, "batch_size": batch_size, "steps_per_epoch": -(-len(x_train) // batch_size),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores (CPU only)",
        "versions": {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
                     "backend": keras.backend.backend(), "numpy": np.__version__},
        "parameters": model.count_params(),
        "test": {"accuracy": round(float(acc), 4), "loss": round(float(loss), 4), "images": len(x_test)},
        "fit_seconds": round(fit_seconds, 1),
        **{k: [round(float(v), 4) for v in vals] for k, vals in history.history.items()},  # accuracy, loss
        "book": f"test accuracy {book.MNIST_TEST_ACCURACY[kind]} on MNIST (section 5.1)",
        "how": "benchmarks/digits_runs.py",
        "note": f"{len(x_train):,} training and {len(x_test):,} test images; no validation split (as listing 5.3)",
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1337, 1, 2])
    parser.add_argument("--models", nargs="+", default=["convnet", "dense"], choices=list(SCHEDULE))
    parser.add_argument("--data", default="drawn", choices=["drawn", "sklearn", "mnist"])
    parser.add_argument("--train", type=int, default=60_000)
    parser.add_argument("--test", type=int, default=10_000)
    parser.add_argument("--out", default="build/digits-runs")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    start = time.time()
    if args.data == "drawn":
        data = digits.drawn_data(args.train, args.test)
    elif args.data == "sklearn":
        data = sklearn_digits(args.train, args.test)
    else:
        data = digits.read_npz(digits.find_mnist())
    print(f"{args.data}: {len(data[0][0]):,} + {len(data[1][0]):,} images in {time.time() - start:.1f} s", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_file = out / "runs.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    for seed in args.seeds:
        for kind in args.models:
            result = run(kind, seed, data, args.data)
            results[f"01-{args.data}-{kind}-s{seed}"] = result
            write_json_atomic(results_file, results)
            print(f"RESULT {args.data} {kind} seed {seed}: test accuracy {result['test']['accuracy']:.4f}, "
                  f"fit {result['fit_seconds']:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
