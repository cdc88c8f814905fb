"""How fast this machine runs the chapter, measured against its own matmul rate (`make bench`).

    python benchmarks/bench.py            # everything, about an hour on 2 cores; writes benchmarks/results.json
    python benchmarks/bench.py --only-ratio  # the notebooks' end-to-end ratios only (about 34 minutes)
    python benchmarks/bench.py --quick    # a few minutes, smaller samples; writes build/bench/results-quick.json

Every figure comes from the same run. Settings that must be fixed before TensorFlow starts (oneDNN,
thread pools) are compared in child processes, alternating A, B, C, A, B, C, ... so that other load
on the machine hits every setting alike; settings that can change in one process (XLA, evaluation
batch size, decode once) alternate inside one process.
"""
import argparse
import contextlib
import copy
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import helpers  # noqa: E402, F401  (sets the course's TensorFlow defaults before TensorFlow loads)
from helpers import config, measure, models, speed  # noqa: E402
from helpers.files import write_text_atomic  # noqa: E402

RESULTS = REPO / "benchmarks" / "results.json"
QUICK_RESULTS = REPO / "build" / "bench" / "results-quick.json"
README = REPO / "benchmarks" / "README.md"
TABLE_START, TABLE_END = "<!-- results:start -->", "<!-- results:end -->"

# Results are keyed by these short ids; the labels are only for people and may change freely.
LABELS = {
    "onednn_off": "oneDNN off (TensorFlow's default here)",
    "onednn_on": "oneDNN on (course default)",
    "onednn_on_interop1": "oneDNN on, 1 inter-op thread",
    "flow_rescale": "flow_from_directory, rescale only",
    "flow_rescale_decoded_once": "flow_from_directory, rescale only, decoded once",
    "tfdata_rescale": "tf.data + preprocessing layers, rescale only",
    "tfdata_rescale_cached": "tf.data + preprocessing layers, rescale only, cached",
    "flow_augmented": "flow_from_directory, augmented",
    "flow_augmented_decoded_once": "flow_from_directory, augmented, decoded once",
    "tfdata_augmented": "tf.data + preprocessing layers, augmented",
    "tfdata_augmented_cached": "tf.data + preprocessing layers, augmented, cached",
    "04_plain": "04, plain",
    "04_decoded_once": "04, decoded once",
    "06_plain": "06, plain",
    "06_decoded_once": "06, decoded once",
    "onednn_training": "oneDNN kernels (TF_ENABLE_ONEDNN_OPTS=1), training",
    "onednn_inference": "oneDNN kernels, inference",
    "interop1": "1 inter-op thread instead of TensorFlow's 2 (training)",
    "xla": "XLA jit_compile=True (training)",
    "eval_batch100": "Evaluation batch 100 instead of 20",
    "decode_once_04": "Decode + resize once per run: notebook 04's epoch (full profile, end to end)",
    "decode_once_06": "Decode + resize once per run: notebook 06's epoch (full profile, end to end)",
}
RESULTS_FORMAT = 2  # 1: keyed by the labels of the time (read through OLD_KEYS)

# Settings fixed at TensorFlow start-up, compared in child processes.
PROCESS_SETTINGS = {
    "onednn_off": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "onednn_on": {"TF_ENABLE_ONEDNN_OPTS": "1"},
    "onednn_on_interop1": {"TF_ENABLE_ONEDNN_OPTS": "1", "TF_NUM_INTEROP_THREADS": "1"},
}
DEFAULT_SETTING = "onednn_on"


# ---------------------------------------------------------------- machine

def cpu_model():
    """The CPU's model name as lscpu reports it."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        match = re.search(r"^Model name:\s*(.+)$", out, re.M)
        if match:
            return match.group(1).strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown"


def machine():
    """What the numbers were measured on."""
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "gpu": [g.name for g in gpus],
            "tensorflow": tf.__version__, "keras": keras.__version__, "python": platform.python_version(),
            "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", ""),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


# ---------------------------------------------------------------- timing helpers

def median(values):
    """The median of a non-empty list (None for an empty one)."""
    return statistics.median(values) if values else None


def training_rates(model, x, y, batch_size, epochs):
    """Images/s of each epoch of model.fit on in-memory tensors, after one warm-up epoch."""
    timer = measure.epoch_timer()
    model.fit(x, y, batch_size=batch_size, epochs=epochs + 1, shuffle=False, verbose=0, callbacks=[timer])
    return [len(x) / t for t, _ in timer.parts[1:]]


def inference_rate(model, x, batch_size, repeats):
    """Images/s of model.predict on in-memory tensors (median of repeats, after a warm-up)."""
    model.predict(x[:batch_size * 2], batch_size=batch_size, verbose=0)
    return len(x) / measure.time_calls(lambda: model.predict(x, batch_size=batch_size, verbose=0), repeats, 0)


def evaluation_rate(model, x, y, batch_size, repeats):
    """Images/s of model.evaluate (what validation runs) at one batch size."""
    model.evaluate(x[:batch_size * 2], y[:batch_size * 2], batch_size=batch_size, verbose=0)
    return len(x) / measure.time_calls(lambda: model.evaluate(x, y, batch_size=batch_size, verbose=0), repeats, 0)


def baseline(jit_compile=False, seed=0):
    """The chapter's compiled baseline (listing 5.5), optionally XLA-compiled."""
    import keras

    keras.utils.set_random_seed(seed)
    model = models.compile_model(models.build_baseline())
    model.jit_compile = jit_compile  # explicit, as the setting compared; read when fit first traces
    return model


# ---------------------------------------------------------------- child: compute rates for one setting

def compute_child(quick, in_process_ab):
    """Matmul, training and inference rates in this process's TensorFlow setting (a dict)."""
    n_train, epochs = (60, 2) if quick else (200, 3)
    out = {"matmul_gflops": measure.matmul_gflops(repeats=4 if quick else 8)}
    model = baseline()
    x, y = speed.random_batch(model, n_train)
    flops = speed.training_flops_per_image(model)
    rates = training_rates(model, x, y, 20, epochs)
    out["train_images_per_s"] = median(rates)
    out["train_gflops"] = out["train_images_per_s"] * flops / 1e9
    out["train_fraction_of_matmul"] = out["train_gflops"] / out["matmul_gflops"]
    out["inference_images_per_s"] = inference_rate(model, x, 20, 2 if quick else 3)
    if in_process_ab:
        out.update(in_process_comparisons(model, x, y, quick))
        out["layers"] = layer_times(model, 20, 3 if quick else 10)
    out["matmul_gflops_after"] = measure.matmul_gflops(repeats=4 if quick else 8)
    return out


def in_process_comparisons(model, x, y, quick):
    """XLA on/off and evaluation batch 20/100, alternating in this process."""
    import numpy as np

    xla_model = baseline(jit_compile=True)
    rounds = 1 if quick else 3
    plain, xla, eval20, eval100 = [], [], [], []
    for _ in range(rounds):
        plain += training_rates(model, x, y, 20, 1)
        xla += training_rates(xla_model, x, y, 20, 1)
        eval20.append(evaluation_rate(model, x, y, 20, 1))
        eval100.append(evaluation_rate(model, x, y, 100, 1))
    # Same weights, same data: XLA's losses must match within float tolerance to be worth keeping.
    same = baseline(seed=5), baseline(jit_compile=True, seed=5)
    losses = [m.fit(x[:40], y[:40], batch_size=20, epochs=2, shuffle=False, verbose=0).history["loss"]
              for m in same]
    return {"xla_off_images_per_s": median(plain), "xla_on_images_per_s": median(xla),
            "xla_loss_max_rel_diff": float(np.max(np.abs(np.subtract(*losses)) / np.abs(losses[0]))),
            "eval_batch20_images_per_s": median(eval20), "eval_batch100_images_per_s": median(eval100)}


def layer_times(model, batch_size, repeats):
    """Where a training step's time goes: forward + backward of each Conv2D/Dense alone, batch_size images.

    Full training steps and the layers alone are timed in turns, so that both see the same load.
    The first layer's gradient with respect to its input is skipped, as in training.
    """
    import tensorflow as tf

    steps = []
    for k, layer in enumerate(model.layers):
        macs = speed.layer_macs(layer)
        if not macs:
            continue
        x = tf.random.stateless_uniform((batch_size,) + tuple(layer.input.shape[1:]), seed=(1, k))
        input_grad = k > 0

        @tf.function
        def step(x, layer=layer, input_grad=input_grad):
            with tf.GradientTape() as tape:
                if input_grad:
                    tape.watch(x)
                loss = tf.reduce_sum(layer(x))
            return tape.gradient(loss, ([x] if input_grad else []) + layer.trainable_weights)

        step(x)
        steps.append((layer, macs, lambda step=step, x=x: float(tf.reduce_sum(step(x)[0]))))
    xb, yb = speed.random_batch(model, batch_size)
    full = lambda: model.train_on_batch(xb, yb)  # noqa: E731
    full()
    times = {"step": []}
    for _ in range(repeats):
        times["step"].append(measure.time_calls(full, 1, warmup=0))
        for layer, _, call in steps:
            times.setdefault(layer.name, []).append(measure.time_calls(call, 1, warmup=0))
    rows = [{"layer": f"{type(layer).__name__} {tuple(layer.output.shape[1:])}",
             "training_gflop_per_image": speed.TRAINING_PASSES * 2 * macs / 1e9,
             "ms_per_batch": median(times[layer.name]) * 1e3,
             "gflops": speed.TRAINING_PASSES * 2 * macs * batch_size / median(times[layer.name]) / 1e9}
            for layer, macs, _ in steps]
    rows.append({"layer": "full training step", "ms_per_batch": median(times["step"]) * 1e3})
    return rows


def run_children(quick, rounds, log):
    """Each process-level setting in its own child, alternating, `rounds` times; lists of results per setting."""
    results = {name: [] for name in PROCESS_SETTINGS}
    for r in range(rounds):
        for name, env in PROCESS_SETTINGS.items():
            log(f"  round {r + 1}/{rounds}: {LABELS[name]}")
            child_env = {**os.environ, **env}
            if "TF_NUM_INTEROP_THREADS" not in env:
                child_env.pop("TF_NUM_INTEROP_THREADS", None)
            args = [sys.executable, str(Path(__file__).resolve()), "--child"]
            args += ["--quick"] if quick else []
            args += ["--in-process-ab"] if name == DEFAULT_SETTING else []
            proc = subprocess.run(args, env=child_env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"benchmark child for {LABELS[name]!r} failed:\n{proc.stderr[-3000:]}")
            results[name].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return results


def summarise_children(results):
    """Medians of every figure per setting."""
    summary = {}
    for name, runs in results.items():
        keys = sorted({k for run in runs for k in run if k != "layers"})
        summary[name] = {k: median([run[k] for run in runs if k in run]) for k in keys}
        layer_runs = [run["layers"] for run in runs if "layers" in run]
        if layer_runs:
            summary[name]["layers"] = [
                {**rows[0], **{k: median([row[k] for row in rows]) for k in ("ms_per_batch", "gflops") if k in rows[0]}}
                for rows in zip(*layer_runs)]
        summary[name]["runs"] = len(runs)
    return summary


# ---------------------------------------------------------------- input pipelines

def pipeline_rate(iterator, batches):
    """Images/s drawing `batches` batches from a flow_from_directory iterator."""
    return measure.images_per_second(measure.generator_batches(iterator), limit=batches)[1]


def warm(iterator):
    """Decode every file of a decode_once iterator once (through a copy), as one epoch would."""
    twin = copy.copy(iterator)
    for i in range(len(twin)):
        twin[i]
    return iterator


def tf_data_pipeline(folder, augment, cache, batch_size=20):
    """keras.utils.image_dataset_from_directory + preprocessing layers, mapped in parallel and prefetched."""
    import keras
    import tensorflow as tf

    ds = keras.utils.image_dataset_from_directory(folder, image_size=config.IMAGE_SIZE, batch_size=batch_size,
                                                  label_mode="binary", interpolation="nearest",
                                                  shuffle=True, seed=config.SEED, verbose=False)
    rescale = keras.layers.Rescaling(1.0 / 255)
    ds = ds.map(lambda x, y: (rescale(x), y), num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        ds = ds.cache()
    if augment:
        layers = keras.Sequential([keras.layers.RandomFlip("horizontal"),
                                   keras.layers.RandomRotation(40 / 360, fill_mode="nearest"),
                                   keras.layers.RandomTranslation(0.2, 0.2, fill_mode="nearest"),
                                   keras.layers.RandomZoom(0.2, fill_mode="nearest")])
        ds = ds.map(lambda x, y: (layers(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def dataset_rate(ds, batches):
    """Images/s of one pass over up to `batches` batches of a tf.data pipeline."""
    return measure.images_per_second(ds.take(batches))[1]


def measure_pipelines(split_root, quick, log):
    """Images/s of each way to feed the training split (no training), decode-once both cold and warm."""
    from helpers import training

    batches = 10 if quick else 100
    train_dir = split_root / "train"
    out = {}
    for augment in (False, True):
        mode = "augmented" if augment else "rescale"
        datagen = training.augmenting_datagen() if augment else training.rescaling_datagen()
        with contextlib.redirect_stdout(sys.stderr):
            plain = training.flow(datagen, "train", 20, directory=split_root)
            fast = speed.decode_once(training.flow(datagen, "train", 20, directory=split_root))
        log(f"  {LABELS[f'flow_{mode}']}")
        out[f"flow_{mode}"] = pipeline_rate(plain, batches)
        warm(fast)
        out[f"flow_{mode}_decoded_once"] = pipeline_rate(fast, batches)
        log(f"  {LABELS[f'tfdata_{mode}']}")
        ds = tf_data_pipeline(train_dir, augment, cache=False)
        dataset_rate(ds, 2)
        out[f"tfdata_{mode}"] = dataset_rate(ds, batches)
        cached = tf_data_pipeline(train_dir, augment, cache=True)
        dataset_rate(cached, 10 ** 6)  # fill the cache
        out[f"tfdata_{mode}_cached"] = dataset_rate(cached, batches)
    return out


# ---------------------------------------------------------------- end to end: the notebooks' fits

def end_to_end(split_root, quick, rounds, log):
    """Seconds per training image and per validation image of real fits (04: rescale, 06: augmented).

    Alternates plain flow_from_directory (Keras' own transforms) with decode-once (warm) so both see the same load.
    """
    from helpers import training

    steps, val_steps = (4, 3) if quick else (25, 10)
    runs = {}
    for r in range(rounds):
        for augment in (False, True):
            for cached in (False, True):
                key = f"{'06' if augment else '04'}_{'decoded_once' if cached else 'plain'}"
                log(f"  round {r + 1}/{rounds}: {LABELS[key]}")
                with contextlib.redirect_stdout(sys.stderr):
                    batch = 32 if augment else 20
                    datagen = training.augmenting_datagen() if augment else training.rescaling_datagen()
                    train = training.flow(datagen, "train", batch, directory=split_root)
                    validation = training.flow(training.rescaling_datagen(), "validation", batch, shuffle=False,
                                               directory=split_root)
                if cached:
                    speed.decode_once(train), speed.decode_once(validation)
                    warm(train), warm(validation)
                model = models.compile_model(models.build_dropout_model() if augment else models.build_baseline())
                timer = measure.epoch_timer()
                model.fit(train, epochs=2, steps_per_epoch=steps, validation_data=validation,
                          validation_steps=val_steps, verbose=0, callbacks=[timer])
                train_s, val_s = timer.parts[-1]
                runs.setdefault(key, []).append({"train_s_per_image": train_s / (steps * batch),
                                                 "val_s_per_image": val_s / (val_steps * batch)})
    return {key: {k: median([v[k] for v in values]) for k in values[0]} for key, values in runs.items()}


# The notebooks' own fits at the book's schedule: batch, training steps per epoch (None: one pass), model.
NOTEBOOK_FITS = {"04": {"augment": False, "model": "baseline", "timed_epochs": 3},
                 "06": {"augment": True, "model": "dropout", "timed_epochs": 2}}


def notebook_fit(notebook, split_root, profile="full"):
    """Notebook 04's or 06's data as the notebook feeds model.fit: (train data, steps per epoch, validation, batch)."""
    from helpers import training

    p = config.get_profile(profile)
    augment = NOTEBOOK_FITS[notebook]["augment"]
    batch = p.augmented_batch if augment else p.baseline_batch
    with contextlib.redirect_stdout(sys.stderr):
        train, validation = training.make_generators(batch, augment=augment, directory=split_root)
    steps = p.augmented_steps if augment else None
    return train, steps, validation, batch


def fit_epochs(model, data, steps, validation, validation_steps, epochs):
    """model.fit for 1 + epochs epochs (the first traces and fills caches): per epoch (seconds, training part)."""
    timer = measure.epoch_timer()
    model.fit(data, steps_per_epoch=steps, epochs=1 + epochs, validation_data=validation,
              validation_steps=validation_steps, shuffle=False, verbose=0, callbacks=[timer])
    return [(total, train) for total, (train, _) in zip(timer.seconds, timer.parts)]


def tf_batches(x, y, batch):
    """In-memory tensors as repeating batches, two prefetched, without tf.data's autotuning (the in-memory side).

    With autotuning, some epochs took twice as long on 2 cores even from memory; without it the side measures
    the model's own speed.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch).repeat().prefetch(2).with_options(options)


def random_images(n, seed):
    """n random 150x150 RGB images in [0, 1) and 0/1 labels, in memory."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.random((n,) + tuple(config.IMAGE_SIZE) + (3,), dtype=np.float32)
    return x, rng.integers(0, 2, (n, 1)).astype("float32")


def end_to_end_ratio(split_root, quick, rounds, log, names=tuple(NOTEBOOK_FITS)):
    """Notebooks 04 and 06 at the book's schedule: their own input pipelines against in-memory tensors (alternating).

    Each round runs every side once, a different side first each round. A: the same model fits random
    in-memory tensors, as many training images per epoch as the notebook and the whole validation set. B: the
    notebook's own call (04: speed.steady_feed over its decode-once iterator; 06: speed.behind_training over its
    endless() generator over the iterator with Pillow transforms, with steps_per_epoch, and its validation
    iterator through speed.steady_feed). Before: 04 with Keras' own feeding of the iterator (the book's call);
    06 with Keras' own transforms and feeding. Ratio: B's training images/s over A's, per whole epoch (training
    and validation), and for the training part alone. One warm-up epoch, then NOTEBOOK_FITS' timed epochs (04
    three: its slow epochs came from the third on). Quick runs time a few batches only.
    """
    import keras

    from helpers import training

    out = {}
    for notebook in names:
        spec = NOTEBOOK_FITS[notebook]
        train, steps, validation, batch = notebook_fit(notebook, split_root)
        train_batches, val_batches = steps or len(train), len(validation)
        if quick:
            train_batches, val_batches = min(train_batches, 6), min(val_batches, 3)
        x, y = random_images(train_batches * batch, 0)
        xv, yv = random_images(val_batches * batch, 1)
        fixed = train_batches if (steps or quick) else None  # steps_per_epoch where the notebook (or quick) sets it
        val_steps = val_batches if quick else None
        feeds = {"in_memory": lambda: (tf_batches(x, y, batch), train_batches, tf_batches(xv, yv, batch),
                                       val_batches)}
        if notebook == "04":
            feeds["keras_feed"] = lambda: (train, fixed, validation, val_steps)
            feeds["end_to_end"] = lambda: ((speed.steady_feed(train).repeat() if quick else speed.steady_feed(train)),
                                           fixed, validation, val_steps)
        else:
            plain = speed.decode_once(training.flow(training.augmenting_datagen(), "train", batch,
                                                    directory=split_root))
            feeds["keras_transforms"] = lambda: (training.endless(plain), fixed, validation, val_steps)
            feeds["end_to_end"] = lambda: (speed.behind_training(training.endless(train)), fixed,
                                           speed.steady_feed(validation, shuffle=False), val_steps)
        timed = 1 if quick else spec["timed_epochs"]
        rows = {side: [] for side in feeds}
        for r in range(rounds):
            sides = list(feeds)
            for side in sides[r % len(sides):] + sides[:r % len(sides)]:  # each side first in turn
                feed = feeds[side]
                log(f"  round {r + 1}/{rounds}: notebook {notebook}, {side.replace('_', ' ')} "
                    f"({train_batches} x {batch} training images and {val_batches} validation batches per epoch)")
                keras.utils.set_random_seed(config.SEED)
                model = models.compile_model(models.build_dropout_model() if spec["model"] == "dropout"
                                             else models.build_baseline())
                epochs = fit_epochs(model, *feed(), timed)
                rows[side].append({"first_epoch_s": epochs[0][0], "epoch_s": median([t for t, _ in epochs[1:]]),
                                   "train_s": median([t for _, t in epochs[1:]]),
                                   "epochs_s": [round(t, 2) for t, _ in epochs]})
        summary = {side: {k: median([row[k] for row in rows[side]]) for k in ("first_epoch_s", "epoch_s", "train_s")}
                   for side in feeds}
        a, b = summary["in_memory"], summary["end_to_end"]
        images = train_batches * batch
        p = config.get_profile("full")
        epochs = p.augmented_epochs if spec["augment"] else p.baseline_epochs
        out[notebook] = {
            "batch": batch, "steps_per_epoch": train_batches, "validation_batches": val_batches, "timed_epochs": timed,
            **summary, "rounds": rows,
            "in_memory_images_per_s": images / a["epoch_s"], "end_to_end_images_per_s": images / b["epoch_s"],
            "ratio": a["epoch_s"] / b["epoch_s"], "ratio_training_part": a["train_s"] / b["train_s"],
            "epochs": epochs, "full_run_minutes": (b["first_epoch_s"] + (epochs - 1) * b["epoch_s"]) / 60}
        if "keras_feed" in summary:
            out[notebook]["ratio_keras_feed"] = a["epoch_s"] / summary["keras_feed"]["epoch_s"]
        if "keras_transforms" in summary:
            out[notebook]["ratio_keras_transforms"] = a["epoch_s"] / summary["keras_transforms"]["epoch_s"]
    return out


def epoch_estimates(e2e, decode_s_per_image, profile="full"):
    """Seconds per epoch and minutes per run for notebooks 04 and 06 in a profile, from end-to-end rates."""
    p = config.get_profile(profile)
    train_images, val_images = 2 * p.train, 2 * p.validation
    out = {}
    for notebook, epochs in (("04", p.baseline_epochs), ("06", p.augmented_epochs)):
        for mode in ("plain", "decoded_once"):
            rates = e2e[f"{notebook}_{mode}"]
            epoch = train_images * rates["train_s_per_image"] + val_images * rates["val_s_per_image"]
            first = (train_images + val_images) * decode_s_per_image if mode == "decoded_once" else 0.0
            out[f"{notebook}_{mode}"] = {"epoch_s": epoch, "epochs": epochs,
                                          "run_min": (epoch * epochs + first) / 60}
    return out


# ---------------------------------------------------------------- how hard is the data set?

def load_split_arrays(folder, size):
    """All images of a split folder, downscaled to size x size, as float arrays in [0, 1], and labels."""
    import numpy as np
    from PIL import Image

    xs, ys = [], []
    for label, cls in enumerate(config.CLASSES):
        for path in sorted((folder / cls).iterdir()):
            with Image.open(path) as img:
                xs.append(np.asarray(img.convert("RGB").resize((size, size), Image.BILINEAR), dtype=np.float32) / 255)
            ys.append(label)
    return np.stack(xs), np.array(ys)


def logistic_regression_accuracy(split_root, size=32):
    """Validation accuracy of a logistic regression on size x size pixels (standardised)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x_train, y_train = load_split_arrays(split_root / "train", size)
    x_val, y_val = load_split_arrays(split_root / "validation", size)
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=2000))
    clf.fit(x_train.reshape(len(x_train), -1), y_train)
    return {"train": float(clf.score(x_train.reshape(len(x_train), -1), y_train)),
            "validation": float(clf.score(x_val.reshape(len(x_val), -1), y_val)),
            "pixels": f"{size}x{size}x3", "train_images": len(x_train), "validation_images": len(x_val)}


def convnet_accuracy(split_root, epochs):
    """The baseline convnet's validation accuracy per epoch on the same split (decode once)."""
    import keras

    from helpers import training

    keras.utils.set_random_seed(config.SEED)
    with contextlib.redirect_stdout(sys.stderr):
        train, validation = training.make_generators(20, directory=split_root)
    speed.decode_once(train), speed.decode_once(validation)
    model = models.compile_model(models.build_baseline())
    history = model.fit(train, epochs=epochs, validation_data=validation, verbose=0).history
    return {"epochs": epochs, "val_accuracy": [round(v, 4) for v in history["val_accuracy"]],
            "train_accuracy": [round(v, 4) for v in history["accuracy"]],
            "train_images": train.samples, "validation_images": validation.samples}


# ---------------------------------------------------------------- data

def bench_data(quick, data_dir, log):
    """The split the bench reads: an existing prepared data folder, or the synthetic set in build/bench-data."""
    if data_dir:
        root = Path(data_dir).resolve() / config.SMALL_DATASET
        if not (root / "train").is_dir():
            raise SystemExit(f"No split in {root}: prepare it with `python -m helpers data --data-dir {data_dir}`.")
        return root
    profile = "quick" if quick else "full"
    folder = REPO / "build" / f"bench-data-{profile}"
    env = {**os.environ, "COURSE_DATA_DIR": str(folder), "COURSE_PROFILE": profile}
    log(f"preparing the synthetic {profile} split in {folder.relative_to(REPO)} (once)")
    subprocess.run([sys.executable, "-m", "helpers", "data", "--source", "synthetic"], env=env, check=True,
                   cwd=REPO, stdout=sys.stderr)
    return folder / config.SMALL_DATASET


# ---------------------------------------------------------------- report

def fmt(value, digits=0):
    """A number for the table, or '-'."""
    return measure.fmt(value, f",.{digits}f", none="-")


def table(results):
    """The results as a Markdown table (also printed)."""
    m, s = results["machine"], results["settings"]
    d = s[DEFAULT_SETTING]
    flops = results["flops"]["training_per_image"] / 1e9
    rows = [
        ("Machine", f"{m['cpu']}, {m['cores']} cores{', GPU ' + ', '.join(m['gpu']) if m['gpu'] else ''}; "
                    f"TensorFlow {m['tensorflow']}, Keras {m['keras']}; {m['date']}; load average "
                    f"{m['load_average_at_start'][1]:.1f} before, "
                    f"{m.get('load_average_at_end', ['-'] * 3)[1]} after (5 min)"
                    f"{'; quick run' if results['quick'] else ''}"),
        ("float32 2048x2048 matmul (the limit)", f"{fmt(d['matmul_gflops'], 1)} GFLOP/s"),
        ("FLOPs per training image (baseline)",
         f"{flops:.3f} GFLOP (forward {results['flops']['forward_per_image'] / 1e9:.3f} x 3)"),
        ("Baseline training, batch 20, in memory",
         f"{fmt(d['train_images_per_s'], 1)} images/s = {fmt(d['train_gflops'], 1)} GFLOP/s = "
         f"{fmt(d['train_fraction_of_matmul'], 2)} of the matmul rate"),
        ("Baseline inference, batch 20", f"{fmt(d['inference_images_per_s'], 1)} images/s"),
    ]
    for key, rate in results["pipelines"].items():
        rows.append((f"Input ({results['data']['source']}): {LABELS[key]}", f"{fmt(rate)} images/s"))
    for key, rate in results.get("pipelines_photos", {}).items():
        rows.append((f"Input (photos): {LABELS[key]}", f"{fmt(rate)} images/s"))
    for key, est in results["estimates"].items():
        rows.append((f"Notebook {LABELS[key]} (full profile, this data)",
                     f"{fmt(est['epoch_s'])} s/epoch, {fmt(est['run_min'])} min for {est['epochs']} epochs"))
    for nb, e2e in {k: v for k, v in results.get("end_to_end_notebooks", {}).items() if k in NOTEBOOK_FITS}.items():
        rows.append((f"Notebook {nb} at the book's schedule ({e2e['steps_per_epoch']} x {e2e['batch']} training "
                     f"images, {e2e['validation_batches']} validation batches per epoch): own pipeline / in memory",
                     f"end_to_end_ratio {e2e['ratio']:.2f} ({e2e['end_to_end_images_per_s']:.0f} / "
                     f"{e2e['in_memory_images_per_s']:.0f} training images/s; training part alone "
                     f"{e2e['ratio_training_part']:.2f}"
                     + (f"; Keras' own feeding of the iterator: {e2e['ratio_keras_feed']:.2f}"
                        if "ratio_keras_feed" in e2e else "")
                     + (f"; Keras' own transforms and feeding: {e2e['ratio_keras_transforms']:.2f}"
                        if "ratio_keras_transforms" in e2e else "")
                     + f"); full run about {e2e['full_run_minutes']:.0f} min for {e2e['epochs']} epochs"))
    if "difficulty" in results:
        diff = results["difficulty"]
        rows.append((f"Difficulty: logistic regression on {diff['logistic']['pixels']} pixels",
                     f"validation accuracy {diff['logistic']['validation']:.3f} "
                     f"(train {diff['logistic']['train']:.3f})"))
        conv = diff["convnet"]
        rows.append((f"Difficulty: baseline convnet after {conv['epochs']} epochs",
                     f"validation accuracy {conv['val_accuracy'][-1]:.3f} (per epoch: "
                     f"{', '.join(f'{v:.2f}' for v in conv['val_accuracy'])})"))
    lines = ["| Figure | Measured |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows]
    if d.get("layers"):
        layers = [row for row in d["layers"] if row["layer"] != "full training step"]
        full = [row["ms_per_batch"] for row in d["layers"] if row["layer"] == "full training step"]
        step_ms = full[0] if full else 20 / d["train_images_per_s"] * 1e3
        lines += ["", f"| Where a training step's time goes (batch 20, {step_ms:.0f} ms per step) "
                      "| GFLOP per image | ms per batch | GFLOP/s | of matmul |", "|---|---|---|---|---|"]
        for row in layers:
            lines.append(f"| {row['layer']} | {row['training_gflop_per_image']:.3f} | {row['ms_per_batch']:.0f} | "
                         f"{row['gflops']:.1f} | {row['gflops'] / d['matmul_gflops']:.2f} |")
        rest = step_ms - sum(row["ms_per_batch"] for row in layers)
        lines.append("| everything else (pooling, loss, optimizer, Keras) | - | "
                     + (f"{rest:.0f}" if full and rest >= 0 else
                        "not resolved: the step and the layers were timed under different load") + " | - | - |")
    lines += ["", "| Speed-up (A/B, alternating) | Before | After | Kept |", "|---|---|---|---|"]
    for ab in results["ab"]:
        lines.append(f"| {LABELS[ab['id']]} | {ab['before']} | {ab['after']} | {ab['kept']} |")
    return "\n".join(lines)


def ab_rows(settings, estimates):
    """Before/after rows for every speed-up tried, with the decision each measurement supports."""
    off, on, inter = settings["onednn_off"], settings[DEFAULT_SETTING], settings["onednn_on_interop1"]
    rows = []

    def row(key, before, after, unit, kept, digits=1):
        rows.append({"id": key, "name": LABELS[key], "before": f"{fmt(before, digits)} {unit}",
                     "after": f"{fmt(after, digits)} {unit}",
                     "kept": kept, "before_value": before, "after_value": after})

    row("onednn_training", off["train_images_per_s"], on["train_images_per_s"],
        "img/s", "yes (course default)")
    row("onednn_inference", off["inference_images_per_s"], on["inference_images_per_s"], "img/s",
        "yes (course default)")
    gain = inter["train_images_per_s"] / on["train_images_per_s"] - 1
    row("interop1", on["train_images_per_s"],
        inter["train_images_per_s"], "img/s", "no: within noise" if abs(gain) < 0.05 else
        ("worth trying" if gain > 0 else "no: slower"))
    gain = on["xla_on_images_per_s"] / on["xla_off_images_per_s"] - 1
    row("xla", on["xla_off_images_per_s"], on["xla_on_images_per_s"], "img/s",
        "no: slower" if gain < -0.05 else ("no: within noise" if gain < 0.05 else "worth trying"))
    gain = on["eval_batch100_images_per_s"] / on["eval_batch20_images_per_s"] - 1
    row("eval_batch100", on["eval_batch20_images_per_s"], on["eval_batch100_images_per_s"],
        "img/s", "no: within noise" if abs(gain) < 0.05 else ("worth trying" if gain > 0 else "no: slower"))
    for nb in ("04", "06"):
        plain, fast = estimates[f"{nb}_plain"]["epoch_s"], estimates[f"{nb}_decoded_once"]["epoch_s"]
        kept = ("yes (a line in notebooks 04 and 06)" if fast < plain * 0.97 else
                "yes: same batches, not slower (within noise)" if fast <= plain * 1.03 else "no: slower")
        row(f"decode_once_{nb}", plain, fast,
            "s/epoch", kept, digits=0)
    return rows


def write_readme_table(markdown):
    """Replace the results block of benchmarks/README.md with the new table."""
    text = README.read_text(encoding="utf-8")
    if TABLE_START not in text or TABLE_END not in text:
        raise SystemExit(f"{README} has no {TABLE_START} ... {TABLE_END} block to fill")
    head, rest = text.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    write_text_atomic(README, f"{head}{TABLE_START}\n{markdown}\n{TABLE_END}{tail}")


# ---------------------------------------------------------------- results files

# Format 1 keyed its sections by the labels of the time: frozen here, so that relabelling never breaks reading.
OLD_KEYS = {
    "oneDNN off (TensorFlow's default here)": "onednn_off", "oneDNN on (course default)": "onednn_on",
    "oneDNN on, 1 inter-op thread": "onednn_on_interop1",
    "flow_from_directory, rescale only": "flow_rescale",
    "flow_from_directory, rescale only, decoded once": "flow_rescale_decoded_once",
    "tf.data + preprocessing layers, rescale only": "tfdata_rescale",
    "tf.data + preprocessing layers, rescale only, cached": "tfdata_rescale_cached",
    "flow_from_directory, augmented": "flow_augmented",
    "flow_from_directory, augmented, decoded once": "flow_augmented_decoded_once",
    "tf.data + preprocessing layers, augmented": "tfdata_augmented",
    "tf.data + preprocessing layers, augmented, cached": "tfdata_augmented_cached",
    "04 rescale, plain": "04_plain", "04 rescale, decoded once": "04_decoded_once",
    "06 augmented, plain": "06_plain", "06 augmented, decoded once": "06_decoded_once",
    "04, plain": "04_plain", "04, decoded once": "04_decoded_once",
    "06, plain": "06_plain", "06, decoded once": "06_decoded_once",
    "oneDNN kernels (TF_ENABLE_ONEDNN_OPTS=1), training": "onednn_training",
    "oneDNN kernels, inference": "onednn_inference",
    "1 inter-op thread instead of TensorFlow's 2 (training)": "interop1",
    "XLA jit_compile=True (training)": "xla", "Evaluation batch 100 instead of 20": "eval_batch100",
    "Decode + resize once per run: notebook 04's epoch (full profile, end to end)": "decode_once_04",
    "Decode + resize once per run: notebook 06's epoch (full profile, end to end)": "decode_once_06",
}
KEYED_SECTIONS = ("settings", "settings_runs", "pipelines", "pipelines_photos", "end_to_end", "estimates")


def upgrade(results):
    """Results of any format as the current one: sections keyed by id, every A/B row with its id."""
    if results.get("format", 1) >= RESULTS_FORMAT:
        return results
    out = {"format": RESULTS_FORMAT, **results}
    for section in KEYED_SECTIONS:
        if section in results:
            out[section] = {OLD_KEYS[key]: value for key, value in results[section].items()}
    out["ab"] = [{"id": OLD_KEYS[row["name"]], **row} for row in results.get("ab", [])]
    return out


def read_results(path):
    """A results file, old or new, in the current format."""
    return upgrade(json.loads(Path(path).read_text(encoding="utf-8")))


# ---------------------------------------------------------------- main

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller samples, one round, quick split: a few minutes")
    parser.add_argument("--rounds", type=int, help="alternating rounds per setting (default 3, quick 1)")
    parser.add_argument("--data-dir", help="use this prepared data folder instead of the synthetic bench split")
    parser.add_argument("--photos-dir", help="also measure the input pipelines on this prepared data folder "
                        "(e.g. the real photos; only numbers are recorded)")
    parser.add_argument("--difficulty-epochs", type=int,
                        help="convnet epochs for the difficulty check (default 5, quick 3)")
    parser.add_argument("--no-difficulty", action="store_true", help="skip the data set difficulty check")
    parser.add_argument("--out", help="results file (default benchmarks/results.json, quick: build/bench/...)")
    parser.add_argument("--no-readme", action="store_true", help="do not update the table in benchmarks/README.md")
    parser.add_argument("--render", action="store_true",
                        help="only print the table of an existing results file (and refresh benchmarks/README.md)")
    parser.add_argument("--notebooks", nargs="+", choices=sorted(NOTEBOOK_FITS),
                        help="with --only-ratio: measure only these notebooks, keep the others' earlier figures")
    parser.add_argument("--only-ratio", action="store_true",
                        help="only the notebooks' end-to-end ratios, merged into the existing results file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--in-process-ab", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(compute_child(args.quick, args.in_process_ab)))
        return 0

    if args.render:
        results = read_results(Path(args.out or RESULTS))
        markdown = table(results)
        print(markdown)
        if not args.no_readme and not args.out:
            write_readme_table(markdown)
        return 0

    started = time.perf_counter()
    rounds = args.rounds or (1 if args.quick else 3)
    out = Path(args.out) if args.out else (QUICK_RESULTS if args.quick else RESULTS)

    def log(msg):
        print(f"[{time.perf_counter() - started:6.0f}s] {msg}", file=sys.stderr, flush=True)

    if args.only_ratio:
        results = read_results(out) if out.exists() else None
        if results is None:
            raise SystemExit(f"--only-ratio adds to an existing results file and {out} does not exist: "
                             "run the whole bench first")
        ratio_section(results, bench_data(args.quick, args.data_dir, log), args.quick, rounds, log, args.notebooks)
        return finish(results, out, args, log)

    results = {"format": RESULTS_FORMAT, "quick": args.quick, "machine": machine()}
    log(f"machine: {results['machine']['cpu']}, {results['machine']['cores']} cores")
    model = baseline()
    results["flops"] = {"forward_per_image": speed.forward_flops_per_image(model),
                        "training_per_image": speed.training_flops_per_image(model)}
    split_root = bench_data(args.quick, args.data_dir, log)
    results["data"] = {"split": str(split_root.relative_to(REPO)) if split_root.is_relative_to(REPO) else "given",
                       "source": json.loads((split_root / "manifest.json").read_text()).get("source")
                       if (split_root / "manifest.json").exists() else None}
    log("compute rates per TensorFlow setting (child processes, alternating)")
    children = run_children(args.quick, rounds, log)
    results["settings"] = summarise_children(children)
    results["settings_runs"] = children
    log("input pipelines")
    results["pipelines"] = measure_pipelines(split_root, args.quick, log)
    if args.photos_dir:
        log("input pipelines on the photos in --photos-dir")
        photos = Path(args.photos_dir).resolve() / config.SMALL_DATASET
        results["pipelines_photos"] = measure_pipelines(photos, args.quick, log)
    log("end-to-end fits, plain vs decode once (alternating)")
    results["end_to_end"] = end_to_end(split_root, args.quick, rounds, log)
    decode_s = 1 / results["pipelines"]["flow_rescale"]
    results["estimates"] = epoch_estimates(results["end_to_end"], decode_s)
    results["ab"] = ab_rows(results["settings"], results["estimates"])
    ratio_section(results, split_root, args.quick, rounds, log)
    if not args.no_difficulty:
        log("data set difficulty: logistic regression, then the baseline convnet")
        results["difficulty"] = {"logistic": logistic_regression_accuracy(split_root),
                                 "convnet": convnet_accuracy(split_root, args.difficulty_epochs
                                                             or (3 if args.quick else 5))}
    results["bench_seconds"] = round(time.perf_counter() - started)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return finish(results, out, args, log)


def ratio_section(results, split_root, quick, rounds, log, only=None):
    """Measure the notebooks' end-to-end ratios into results: the ratio per notebook, details, predicted minutes.

    only: these notebooks only; the others keep their earlier figures (each notebook's entry has its own date)."""
    names = only or list(NOTEBOOK_FITS)
    log(f"notebooks {', '.join(names)} at the book's schedule: own pipeline against in-memory tensors (alternating)")
    started = time.perf_counter()
    machine_now = machine()
    measured = end_to_end_ratio(split_root, quick, rounds, log, names)
    for entry in measured.values():
        entry.update(date=machine_now["date"], load_average_at_start=machine_now["load_average_at_start"])
    earlier = results.get("end_to_end_notebooks", {}) if only else {}
    notebooks = {nb: measured.get(nb) or earlier[nb] for nb in NOTEBOOK_FITS if nb in measured or nb in earlier}
    results["end_to_end_ratio"] = {nb: round(v["ratio"], 3) for nb, v in notebooks.items()}
    results["predicted_full_run_minutes"] = {nb: round(v["full_run_minutes"], 1) for nb, v in notebooks.items()}
    results["end_to_end_notebooks"] = {**notebooks, "machine": machine_now, "rounds": rounds,
                                       "seconds": round(time.perf_counter() - started),
                                       "load_average_at_end": [round(x, 2) for x in os.getloadavg()]}


def finish(results, out, args, log):
    """Print the table, write the results file (and the README table for a full run of the default file)."""
    markdown = table(results)
    print(markdown)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, json.dumps(results, indent=1, default=str))
    log(f"wrote {out}")
    if not args.quick and not args.no_readme and not args.out:
        write_readme_table(markdown)
        log(f"updated the table in {README.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
