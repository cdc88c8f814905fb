"""float32 against Keras' mixed precision (`mixed_bfloat16`, the sigmoid unit kept in float32) on this CPU.

Notebooks 04's and 06's models (listings 5.5 and 5.13, batches of 20 and 32) each built in both precisions in one
process; their training step (`train_on_batch`) and evaluation step (`test_on_batch`) on an in-memory batch timed in
turns, the precision that goes first alternating from round to round. A round's ratio is float32's seconds over
bfloat16's (above 1: bfloat16 is faster). Whether oneDNN has bfloat16 kernels here is read from its own log
(`ONEDNN_VERBOSE=1`, in a child process): the instruction set it found and which precision its kernels ran in.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

from benchmarks.common import median
from helpers import config, models

POLICIES = ("float32", "mixed_bfloat16")
MODELS = {"04": (models.build_baseline, 20), "06": (models.build_dropout_model, 32)}
GAIN = 1.3  # the speed-up that would make bfloat16 worth teaching: every paired ratio, end to end
BENCH = Path(__file__).resolve().parent / "bench.py"


def build(notebook, policy):
    """The notebook's compiled model under a dtype policy (the output unit in float32), and its batch size."""
    import keras

    build_fn, batch = MODELS[notebook]
    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(config.SEED)
        model = models.compile_model(build_fn(output_dtype="float32"))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return model, batch


def step_seconds(model, batch, steps):
    """Median seconds of a training step and of an evaluation step on one random batch (after one warm-up each)."""
    import numpy as np

    from helpers import measure

    rng = np.random.default_rng(0)
    x = rng.random((batch, *model.inputs[0].shape[1:]), dtype=np.float32)
    y = rng.integers(0, 2, (batch, 1)).astype("float32")
    return {"train_s": measure.time_calls(lambda: model.train_on_batch(x, y), steps),
            "eval_s": measure.time_calls(lambda: model.test_on_batch(x, y), steps)}


def measure_steps(rounds, steps, log):
    """Alternating rounds of both models in both precisions: per notebook every round's seconds and the ratios."""
    built = {(nb, p): build(nb, p) for nb in MODELS for p in POLICIES}
    found = {nb: [] for nb in MODELS}
    for r in range(rounds):
        order = POLICIES if r % 2 == 0 else POLICIES[::-1]
        for nb in MODELS:
            row = {"first": order[0]}
            for policy in order:
                row[policy] = step_seconds(*built[(nb, policy)], steps)
            log(f"  round {r + 1}/{rounds}: notebook {nb}: " + ", ".join(
                f"{p} {row[p]['train_s']:.3f} s per training step" for p in POLICIES))
            found[nb].append(row)
    return {nb: summarise(rows) for nb, rows in found.items()}


def summarise(rows):
    """Per-round ratios float32 / bfloat16 for training and evaluation steps, their min and median, every round."""
    out = {"rounds": rows}
    for part in ("train", "eval"):
        ratios = [round(row["float32"][f"{part}_s"] / row["mixed_bfloat16"][f"{part}_s"], 4) for row in rows]
        out[f"{part}_ratios"] = ratios
        out[f"{part}_min"], out[f"{part}_median"] = min(ratios), median(ratios)
    return out


def worth_a_fit(steps):
    """Whether bfloat16 could reach GAIN end to end: every training-step ratio of both models at least GAIN."""
    return all(summary["train_min"] >= GAIN for summary in steps.values())


def verdict(steps, end_to_end=None):
    """What the measurements support, in words."""
    if end_to_end:
        ratios = [r for summary in end_to_end.values() for r in summary["ratios"]]
        if min(ratios) >= GAIN:
            return f"at least {GAIN}x faster end to end in every round: worth teaching (accuracy runs decide)"
        return f"below {GAIN}x end to end in some round (min {min(ratios):.3f}): left out"
    worst = max(summary["train_median"] for summary in steps.values())
    if worst < 1:
        return (f"slower: float32 / bfloat16 training step at most {worst:.3f} (median); "
                f"no end-to-end fit can reach {GAIN}x: left out")
    return f"training step below {GAIN}x in some round: left out"


ISA_PROBE = """
import numpy as np, keras
keras.mixed_precision.set_global_policy("mixed_bfloat16")
model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(8, 3, activation="relu"),
                          keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid", dtype="float32")])
model.compile(optimizer="rmsprop", loss="binary_crossentropy")
model.train_on_batch(np.zeros((4, 32, 32, 3), "float32"), np.zeros((4, 1), "float32"))
"""


def onednn_kernels():
    """What oneDNN reports for a bfloat16 training step: its instruction set, and its kernels by source precision."""
    env = {**os.environ, "ONEDNN_VERBOSE": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-c", ISA_PROBE], env=env, capture_output=True, text=True, timeout=600)
    return parse_onednn_log(proc.stdout + proc.stderr)


def parse_onednn_log(text):
    """{'isa': ..., 'kernels': {precision: count}} from ONEDNN_VERBOSE lines (None where oneDNN said nothing)."""
    isa = re.search(r"onednn_verbose,(?:v1,)?info,cpu,isa:(.+)", text)
    kernels = {}
    for line in text.splitlines():
        if ",exec,cpu," in line and line.startswith("onednn_verbose"):
            source = re.search(r"\bsrc[_:](\w+?)[:_]", line)
            precision = source.group(1) if source else "other"
            kernels[precision] = kernels.get(precision, 0) + 1
    return {"isa": isa.group(1).strip() if isa else None, "kernels": kernels}
