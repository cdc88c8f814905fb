"""TensorFlow's start without its native start-up log: the notebooks' first cell prints only the banner.

TensorFlow's C++ code writes a few lines to the process's stderr while it loads, before absl's logging
is set up, so `TF_CPP_MIN_LOG_LEVEL` cannot hide them ("All log messages before absl::InitializeLog()
is called...", "oneDNN custom operations are on", "failed call to cuInit"). In Jupyter they show as red
output of the first cell. `import_tensorflow()` loads TensorFlow with file descriptor 2 pointed at a
temporary file, then writes back every captured line that is not known, harmless start-up noise: a
real error still shows.
"""
import contextlib
import os
import re
import shutil
import sys
import tempfile

# One pattern per known line; each is harmless, and what it says is already in the banner.
ABSL_PREAMBLE = re.compile(
    r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$")
TF_LOG = r"^[IWE]\d{4} [\d:.]+\s+\d+ "  # glog's prefix: severity, date, time, thread id
STARTUP_NOISE = (
    ABSL_PREAMBLE,
    re.compile(TF_LOG + r"port\.cc:\d+\] oneDNN custom operations are on\."),  # the banner says "oneDNN on"
    re.compile(TF_LOG + r"cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized to use"),
    re.compile(r"^To enable the following instructions: [\w ,]+, in other operations, rebuild TensorFlow with the "
               r"appropriate compiler flags\.$"),  # the second line of the one above
    re.compile(TF_LOG + r"cuda_(fft|dnn|blas)\.cc:\d+\] Unable to register cu\w+ factory"),
    re.compile(TF_LOG + r"computation_placer\.cc:\d+\] computation placer already registered"),
)
# Without an NVIDIA driver these only say "no GPU here", which the banner says too. With a driver
# installed (nvidia-smi found) they may explain a GPU that does not work, so they are kept.
NO_DRIVER_NOISE = (
    re.compile(TF_LOG + r"cudart_stub\.cc:\d+\] Could not find cuda drivers on your machine"),
    re.compile(TF_LOG + r"cuda_platform\.cc:\d+\] failed call to cuInit: .*\(303\)$"),
    re.compile(TF_LOG + r"cuda_driver\.cc:\d+\] failed call to cuInit: .*\(303\)$"),  # older TensorFlow
)


def noise_patterns(has_driver=None):
    """The start-up lines to drop: all of them on a machine without an NVIDIA driver, else the GPU ones kept."""
    has_driver = shutil.which("nvidia-smi") is not None if has_driver is None else has_driver
    return STARTUP_NOISE if has_driver else STARTUP_NOISE + NO_DRIVER_NOISE


def drop_noise(text, patterns=None):
    """The text without its known start-up noise lines (every other line kept, in order)."""
    patterns = noise_patterns() if patterns is None else patterns
    kept = [line for line in text.splitlines(keepends=True)
            if not any(p.search(line.rstrip("\r\n")) for p in patterns)]
    return "".join(kept)


@contextlib.contextmanager
def native_stderr_filtered(patterns=None, write=None):
    """Inside the block, what native code writes to fd 2 is captured; afterwards all but the noise is written back."""
    write = write or (lambda text: (sys.stderr.write(text), sys.stderr.flush()))
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no file descriptor 2 to borrow: change nothing
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                sys.stderr.flush()  # where Python's stderr is fd 2 itself, its buffer belongs to the capture
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            rest = drop_noise(capture.read().decode("utf-8", errors="replace"), patterns)
            if rest:
                write(rest)


def import_tensorflow():
    """Import TensorFlow and Keras and look for GPUs (when TensorFlow logs), hiding only the known noise."""
    with native_stderr_filtered():
        import keras  # noqa: F401
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")  # initialises CUDA now: its "no GPU" line is captured too
    return tf
