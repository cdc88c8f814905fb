"""Timers and tables: what a run measured (notebook 08's comparison and benchmarks/bench.py).

    time_calls(call, steps)           # median seconds per call
    epoch_timer()                     # Keras callback: seconds per epoch, and its training/validation parts
    images_per_second(batches)        # throughput of an input pipeline read once
    table(rows, header)               # a plain-text table

The fit-time estimate a learner reads lives in `speed`; this module only times what actually ran.
"""
import json
import statistics
import time
from pathlib import Path


def time_calls(call, steps, warmup=1):
    """Median seconds per call of call(), after warmup calls (which trace and fill caches)."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(max(steps, 1)):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(statistics.median(times))


def matmul_gflops(n=2048, repeats=8, rounds=3):
    """TensorFlow's float32 n x n matmul rate in GFLOP/s (best of a few rounds): the machine's limit."""
    import tensorflow as tf

    a = tf.random.stateless_normal((n, n), seed=(1, 2))
    b = tf.random.stateless_normal((n, n), seed=(3, 4))
    matmul = tf.function(tf.linalg.matmul)
    matmul(a, b).numpy()  # trace and warm up
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            c = matmul(a, b)
        c.numpy()
        best = max(best, 2 * n ** 3 * repeats / (time.perf_counter() - start) / 1e9)
    return best


def images_per_second(batches, limit=None):
    """Read batches (an iterable of (images, labels)) once; return (images read, images per second)."""
    start, images = time.perf_counter(), 0
    for i, (x, _) in enumerate(batches):
        if limit is not None and i >= limit:
            break
        images += int(x.shape[0])
    seconds = time.perf_counter() - start
    return images, images / seconds if seconds > 0 else float("inf")


def generator_batches(iterator):
    """One pass over a Keras/ImageDataGenerator iterator (it would otherwise loop forever)."""
    for i in range(len(iterator)):
        yield iterator[i]


def epoch_timer():
    """A Keras callback recording each epoch's wall-clock seconds in `.seconds`, split in `.parts`.

    `.parts` holds (training seconds, validation seconds) per epoch; both lists restart with every fit.
    """
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Seconds per epoch, training and validation included, and the two parts apart."""

        def on_train_begin(self, logs=None):
            self.seconds, self.parts = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self._start, self._test_start, self._test_end = time.perf_counter(), None, None

        def on_test_begin(self, logs=None):
            self._test_start = time.perf_counter()

        def on_test_end(self, logs=None):
            self._test_end = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            end = time.perf_counter()
            train_end = self._test_start or end
            validation = (self._test_end - self._test_start) if self._test_start else 0.0
            self.seconds.append(end - self._start)
            self.parts.append((train_end - self._start, validation))

    return EpochTimer()


def steady_seconds(seconds):
    """Typical epoch time: the mean after the first epoch (tracing, cache filling), else the first."""
    seconds = list(seconds)
    later = seconds[1:] or seconds
    return sum(later) / len(later) if later else float("nan")


def code_lines(source):
    """Lines of code in a cell's source: not blank, not only a comment."""
    return sum(1 for line in source.splitlines() if line.strip() and not line.strip().startswith("#"))


def notebook_code_lines(path, markers):
    """Lines of code in the notebook's code cells whose source contains any of the markers."""
    path = Path(path)
    if not path.is_file():
        return None
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    total = 0
    for cell in cells:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code" and any(m in source for m in markers):
            total += code_lines(source)
    return total


def faster_or_slower(mine, theirs, higher_is_better):
    """'faster'/'slower' (or 'same') for mine against theirs; ratio as 'x1.8'."""
    if mine is None or theirs is None or not theirs or not mine:
        return "n/a"
    better = mine > theirs if higher_is_better else mine < theirs
    ratio = max(mine, theirs) / min(mine, theirs)
    if ratio < 1.05:
        return "about the same"
    return f"{'faster' if better else 'slower'} (x{ratio:.1f})"


def fmt(value, spec, none="n/a"):
    """A number formatted with spec, or `none` when missing."""
    return none if value is None else format(value, spec)


def table(rows, header):
    """A plain-text table: header plus rows of strings, columns padded."""
    rows = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)
