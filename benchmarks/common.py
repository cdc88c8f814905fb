"""What every benchmark job shares: the repository, the machine's description, medians, the data split it reads."""
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
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import helpers  # noqa: E402, F401  (sets the course's TensorFlow defaults before TensorFlow loads)
from helpers import config, measure  # noqa: E402


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


def load_average():
    """The 1, 5 and 15 minute load averages, rounded."""
    return [round(x, 2) for x in os.getloadavg()]


def machine():
    """What the numbers were measured on."""
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "gpu": [g.name for g in gpus],
            "tensorflow": tf.__version__, "keras": keras.__version__, "python": platform.python_version(),
            "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", ""),
            "load_average_at_start": load_average(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def median(values):
    """The median of a non-empty list (None for an empty one)."""
    values = list(values)
    return statistics.median(values) if values else None


def fmt(value, digits=0):
    """A number for the table, or '-'."""
    return measure.fmt(value, f",.{digits}f", none="-")


def bench_data(quick, data_dir, log):
    """The split the bench reads: an existing prepared data folder, or the synthetic set in build/bench-data-*."""
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


def data_source(split_root):
    """The prepared split's source name (synthetic, kaggle, ...) from its manifest, or None."""
    manifest = split_root / "manifest.json"
    return json.loads(manifest.read_text()).get("source") if manifest.exists() else None
