"""Reference runs of notebooks 04 and 06 outside Jupyter, on any Keras 3 backend (also without TensorFlow).

    python benchmarks/reference_runs.py --notebook 06 --seed 1337 --data DIR --out DIR [--workers 6]

The notebooks' full profile, as they run it: the same network (helpers.models), RMSprop(1e-4),
the same ImageDataGenerator arguments and batch sizes. Notebook 04 trains 30 epochs on the finite
flow_from_directory iterator (100 batches of 20: one pass over 2,000 pictures). Notebook 06 trains
100 epochs of steps_per_epoch=100 batches of 32 drawn from the training pictures looped over forever,
as the book's generators did. Both validate on the whole validation split after every epoch and are
evaluated once on the test split. Notebook 06's training pictures are decoded and resized once, up front.

Notebook 06's batches are made by worker threads, each batch from its own seed: the same augmentation
(the same ImageDataGenerator, the same distribution of transforms) as the notebook, not the same draws.
During the fit the notebooks' callback (helpers.speed.FitTimeEstimate) prints its estimate of the fit's time from
the second epoch on; the run saves the last one printed, which the record sets against the measured fit. Writes
<out>/<name>.json after every epoch (history so far) and at the end (test scores, times, machine, versions), and
the trained weights as <name>.weights.npz; `benchmarks/record_run.py --results` adds it to benchmarks/runs.json.
"""
import argparse
import contextlib
import json
import math
import os
import platform
import sys
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SCHEDULES = {  # the book's full schedule for each notebook
    "04": {"run": 1, "epochs": 30, "batch_size": 20, "steps_per_epoch": None, "augment": False},
    "06": {"run": 2, "epochs": 100, "batch_size": 32, "steps_per_epoch": 100, "augment": True},
}


def image_data_generator_class():
    """ImageDataGenerator, public only as TensorFlow's name for it: on another backend, install tensorflow-cpu too."""
    try:
        from tensorflow.keras.preprocessing.image import ImageDataGenerator
    except ImportError as error:
        raise SystemExit("reference_runs.py needs TensorFlow for ImageDataGenerator (its only public name), "
                         "also on another Keras backend: pip install tensorflow-cpu") from error
    return ImageDataGenerator


def load_pixels(iterator):
    """Every picture of a flow_from_directory iterator as load_img gives it (uint8), in file order."""
    import keras

    return np.stack([keras.utils.img_to_array(
        keras.utils.load_img(path, target_size=iterator.target_size, interpolation=iterator.interpolation),
        dtype="uint8") for path in iterator.filepaths])


def endless_augmented_batches(datagen, pixels, labels, batch_size, seed, workers, ahead=16):
    """Augmented batches forever, in order: pass p shuffles with seed+p, batch g transforms from its own seed."""
    n = len(pixels)
    per_pass = math.ceil(n / batch_size)
    draw = threading.Lock()  # get_random_transform seeds NumPy's global generator

    def make(g):
        p, i = divmod(g, per_pass)
        order = np.random.RandomState(seed + p).permutation(n)
        index = order[i * batch_size:(i + 1) * batch_size]
        batch = np.empty((len(index), *pixels.shape[1:]), dtype="float32")
        for k, j in enumerate(index):
            x = pixels[j].astype("float32")
            with draw:
                params = datagen.get_random_transform(x.shape, seed=(seed * 1_000_003 + g * batch_size + k) % 2**32)
            batch[k] = datagen.standardize(datagen.apply_transform(x, params))
        return batch, labels[index].astype("float32")

    with ThreadPoolExecutor(workers) as pool:
        pending = deque(pool.submit(make, g) for g in range(ahead))
        g = ahead
        while True:
            yield pending.popleft().result()
            pending.append(pool.submit(make, g))
            g += 1


def machine():
    """The accelerator (if any), the CPU model and its core count."""
    import keras

    with open("/proc/cpuinfo") as cpuinfo:
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
                   platform.processor() or "CPU")
    accel = "CPU only"
    if keras.backend.backend() == "jax":
        import jax
        gpus = [d.device_kind for d in jax.devices() if d.platform == "gpu"]
        accel = f"{gpus[0]} GPU" if gpus else accel
    elif keras.backend.backend() == "torch":
        import torch
        accel = f"{torch.cuda.get_device_name(0)} GPU" if torch.cuda.is_available() else accel
    elif keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        accel = "GPU" if tf.config.list_physical_devices("GPU") else accel
    return f"{accel}, {cpu}, {os.cpu_count()} cores"


def versions():
    """Versions of what the run used."""
    import importlib.metadata as md

    import keras

    found = {"python": platform.python_version(), "keras": keras.__version__, "backend": keras.backend.backend()}
    for name in ("tensorflow", "jax", "torch", "numpy", "scipy", "pillow"):
        with contextlib.suppress(md.PackageNotFoundError):
            found[name] = md.version(name)
    return found


def write_json(path, record):
    """Write record as JSON through a temporary file (helpers.files)."""
    from helpers.files import write_text_atomic

    write_text_atomic(path, json.dumps(record, indent=1) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebook", choices=sorted(SCHEDULES), required=True)
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--data", required=True, help="the split: DIR/{train,validation,test}/{cats,dogs}")
    parser.add_argument("--source", required=True, help="the data set's name for the record (kaggle, synthetic)")
    parser.add_argument("--out", required=True, help="folder for <name>.json and <name>.weights.h5")
    parser.add_argument("--name", help="file name of this run's outputs (default: nbNN-seedS)")
    parser.add_argument("--workers", type=int, default=4, help="threads making notebook 06's batches")
    parser.add_argument("--epochs", type=int, help="fewer epochs, to try the script (not for records)")
    parser.add_argument("--steps", type=int, help="fewer steps per epoch, to try the script (not for records)")
    parser.add_argument("--note", default="", help="how the data reached this machine, for the record")
    args = parser.parse_args(argv)

    import keras

    from helpers import config, models

    plan = dict(SCHEDULES[args.notebook])
    trial = args.epochs is not None or args.steps is not None
    plan["epochs"] = args.epochs or plan["epochs"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = args.name or f"nb{args.notebook}-seed{args.seed}"
    data = Path(args.data)

    config.set_seed(args.seed)
    model = models.compile_model(models.build_dropout_model() if plan["augment"] else models.build_baseline())
    ImageDataGenerator = image_data_generator_class()
    rescale = ImageDataGenerator(rescale=1.0 / 255)

    def flow(datagen, split, batch_size, shuffle):
        return datagen.flow_from_directory(data / split, target_size=config.IMAGE_SIZE, batch_size=batch_size,
                                           class_mode="binary", shuffle=shuffle, seed=args.seed)

    from helpers import speed
    started = time.time()
    validation = flow(rescale, "validation", plan["batch_size"], False)
    if plan["augment"]:
        from helpers.training import BOOK_AUGMENTATION
        train_iter = flow(ImageDataGenerator(rescale=1.0 / 255, **BOOK_AUGMENTATION), "train",
                          plan["batch_size"], True)
        pixels = load_pixels(train_iter)

        train = endless_augmented_batches(train_iter.image_data_generator, pixels, train_iter.classes,
                                          plan["batch_size"], args.seed, args.workers)
        steps = args.steps or plan["steps_per_epoch"]
        train_images = train_iter.samples
    else:
        train = flow(rescale, "train", plan["batch_size"], True)
        steps = args.steps  # None: one pass of the finite iterator, as the notebook
        train_images = train.samples
    record = {
        "notebook": {"04": "04_baseline_convnet.ipynb", "06": "06_dropout_and_augmentation.ipynb"}[args.notebook],
        "run": plan["run"], "profile": "trial" if trial else "full", "source": args.source, "seed": args.seed,
        "epochs": plan["epochs"], "batch_size": plan["batch_size"],
        "steps_per_epoch": steps or math.ceil(train_images / plan["batch_size"]),
        "train_images": train_images, "validation_images": validation.samples,
        "how": "benchmarks/reference_runs.py", "note": args.note,
        "machine": machine(), "versions": versions(), "epoch_seconds": [],
    }
    path = out / f"{name}.json"

    class Progress(keras.callbacks.Callback):
        """Write the history so far after every epoch, so a run cut short still leaves its numbers."""

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            record["epoch_seconds"].append(round(time.perf_counter() - self.start, 2))
            for key, value in (logs or {}).items():
                record.setdefault(key, []).append(round(float(value), 4))
            write_json(path, record)

    estimate = speed.FitTimeEstimate(profile="full")
    write_json(path, record)
    fit_start = time.perf_counter()
    model.fit(train, epochs=plan["epochs"], steps_per_epoch=steps, validation_data=validation,
              callbacks=[Progress(), estimate], verbose=2)
    record["fit_seconds"] = round(time.perf_counter() - fit_start, 1)
    record["estimate"] = estimate.estimate  # the last estimate printed during the fit
    test = flow(rescale, "test", 20, False)
    loss, accuracy = model.evaluate(test, verbose=0)
    record["test"] = {"accuracy": round(float(accuracy), 4), "loss": round(float(loss), 4), "images": test.samples}
    record["run_seconds"] = round(time.time() - started, 1)
    np.savez(out / f"{name}.weights.npz", *model.get_weights())  # layer weights only: model.set_weights
    write_json(path, record)
    print(f"{name}: final val {record['val_accuracy'][-1]:.3f}, test {accuracy:.3f}, fit {record['fit_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
