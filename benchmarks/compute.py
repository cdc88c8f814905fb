"""Compute rates: the baseline's training and inference steps against the matmul rate, timed in turns in this process
(`steady_rates`, the default bench). With `--long` also per TensorFlow setting: XLA, evaluation batch size, where a
training step's time goes; settings fixed at TensorFlow's start (oneDNN, thread pools) run in child processes
(`bench.py --child`), alternating A, B, C, A, B, C, ...
"""
import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.common import median
from helpers import measure, models, speed

# Settings fixed at TensorFlow start-up, compared in child processes.
PROCESS_SETTINGS = {
    "onednn_off": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "onednn_on": {"TF_ENABLE_ONEDNN_OPTS": "1"},
    "onednn_on_interop1": {"TF_ENABLE_ONEDNN_OPTS": "1", "TF_NUM_INTEROP_THREADS": "1"},
}
DEFAULT_SETTING = "onednn_on"
BENCH = Path(__file__).resolve().parent / "bench.py"


def random_batch(model, batch_size, seed=0):
    """A batch of uniform [0, 1) images and 0/1 labels shaped for the model, from its own generator."""
    import numpy as np

    rng = np.random.default_rng(seed)
    shape = (batch_size, *model.inputs[0].shape[1:])
    units = model.outputs[0].shape[-1]
    return rng.random(shape, dtype=np.float32), rng.integers(0, 2, (batch_size, units)).astype("float32")


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


def steady_rates(rounds, quick, log):
    """The training/matmul ratio in this process's setting, per round: the matmul rate, then the baseline's training
    step (`train_on_batch`, batch 20) and inference step, so that each ratio pairs figures timed under the same load."""
    model = baseline()
    x, y = random_batch(model, 20)
    flops = speed.training_flops_per_image(model)
    steps = 3 if quick else 8
    rows = []
    for r in range(rounds):
        matmul = measure.matmul_gflops(repeats=4 if quick else 8)
        train_s = measure.time_calls(lambda: model.train_on_batch(x, y), steps)
        infer_s = measure.time_calls(lambda: model.predict_on_batch(x), steps)
        rows.append({"matmul_gflops": round(matmul, 2), "train_images_per_s": round(20 / train_s, 2),
                     "train_gflops": round(20 / train_s * flops / 1e9, 2),
                     "train_fraction_of_matmul": round(20 / train_s * flops / 1e9 / matmul, 4),
                     "inference_images_per_s": round(20 / infer_s, 2)})
        log(f"  round {r + 1}/{rounds}: matmul {matmul:.1f} GFLOP/s, training {20 / train_s:.1f} images/s "
            f"({rows[-1]['train_fraction_of_matmul']:.2f} of matmul)")
    summary = {key: median(row[key] for row in rows) for key in rows[0]}
    return {**summary, "train_fraction_rounds": [row["train_fraction_of_matmul"] for row in rows], "rounds": rows}


def compute_child(quick, in_process_ab):
    """Matmul, training and inference rates in this process's TensorFlow setting (a dict)."""
    n_train, epochs = (60, 2) if quick else (200, 3)
    out = {"matmul_gflops": measure.matmul_gflops(repeats=4 if quick else 8)}
    model = baseline()
    x, y = random_batch(model, n_train)
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
        x = tf.random.stateless_uniform((batch_size, *layer.input.shape[1:]), seed=(1, k))
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
    xb, yb = random_batch(model, batch_size)
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
            log(f"  round {r + 1}/{rounds}: {name}")
            child_env = {**os.environ, **env}
            if "TF_NUM_INTEROP_THREADS" not in env:
                child_env.pop("TF_NUM_INTEROP_THREADS", None)
            args = [sys.executable, str(BENCH), "--child"]
            args += ["--quick"] if quick else []
            args += ["--in-process-ab"] if name == DEFAULT_SETTING else []
            proc = subprocess.run(args, env=child_env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"benchmark child for {name!r} failed:\n{proc.stderr[-3000:]}")
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
                for rows in zip(*layer_runs, strict=True)]
        summary[name]["runs"] = len(runs)
    return summary
