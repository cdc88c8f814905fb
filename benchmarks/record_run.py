"""Record a full-profile notebook run's numbers (curves, test accuracy, times) in benchmarks/runs.json.

    python benchmarks/record_run.py --notebook build/real-full-run/04_baseline_convnet.ipynb \
        --models-dir build/real-full-models --run 1 --log build/real-full-run/04.log

    python benchmarks/record_run.py --results results.json --date 2026-11-30   # reference_runs.py's output

The fit-time estimate (speed.FitTimeEstimate, saved as the run's `estimate`) is set against the fit's measured time;
an estimate more than ESTIMATE_TOLERANCE off is reported. Only numbers are kept: no image, model or anything else
made from the photos.
"""
import argparse
import json
import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = REPO / "benchmarks" / "runs.json"
sys.path.insert(0, str(REPO))

from benchmarks.common import cpu_model  # noqa: E402
from helpers.files import write_text_atomic  # noqa: E402
from helpers.saved_runs import book_reference  # noqa: E402

FIT_CELL = re.compile(r"history\s*=\s*model\.fit\(")  # the notebook's own fit (08 later fits 06's model too)


def notebook_text(nb, only=None):
    """Every text output of an executed notebook (or of the cells whose source matches the pattern `only`), joined."""
    parts = []
    for cell in nb["cells"]:
        if only is not None and not only.search("".join(cell.get("source", ""))):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append("".join(out["text"]) if isinstance(out["text"], list) else out["text"])
            elif "data" in out and "text/plain" in out["data"]:
                text = out["data"]["text/plain"]
                parts.append("".join(text) if isinstance(text, list) else text)
    return "\n".join(parts)


def estimate_line(text):
    """The last 'takes about N minutes on this machine' sentence speed.FitTimeEstimate printed during the fit."""
    found = re.findall(r"[Tt]his fit .*? takes about (\d+) (minutes?|seconds) on this machine \((\d+) s per epoch",
                       text)
    if not found:
        return None
    number, unit, per_epoch = found[-1]
    minutes = int(number) if unit.startswith("minute") else round(int(number) / 60, 1)
    return {"minutes": minutes, "s_per_epoch": int(per_epoch)}


def fit_seconds(text):
    """The fit's wall time from its epoch progress bar: tqdm's 'N/N [MM:SS<' (or H:MM:SS) when it reached the end."""
    times = re.findall(r"(\d+)/(\d+)\s*\[(?:(\d+):)?(\d+):(\d+)(?:<|&lt;)", text)
    done = [t for t in times if t[0] == t[1]]
    if not done:
        # Keras' own progress bar: each epoch's last line, "63/63 ━━━ 25s 397ms/step ... val_loss: ...".
        plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
        epochs = re.findall(r"(\d+)/(\d+) ━+\s+(\d+)s \d+m?s/step[^\n\r\x08]*val_loss", plain)
        return sum(int(sec) for a, b, sec in epochs if a == b) or None
    _, _, h, m, s = done[-1]
    return int(h or 0) * 3600 + int(m) * 60 + int(s)


def log_times(log):
    """Start and end stamps written by the run's wrapper ('start <epoch s>' / 'end <epoch s>')."""
    if not log or not Path(log).exists():
        return None
    stamps = dict(re.findall(r"^(start|end) (\d+)$", Path(log).read_text(encoding="utf-8", errors="replace"), re.M))
    if "start" in stamps and "end" in stamps:
        return int(stamps["end"]) - int(stamps["start"])
    return None


CURVES = ("accuracy", "val_accuracy", "loss", "val_loss")


def curves(history):
    """The four per-epoch curves rounded to 4 digits, with the best epoch and the epoch of lowest validation loss."""
    found = {key: [round(float(v), 4) for v in history[key]] for key in CURVES if key in history}
    if "val_accuracy" not in found:  # a fit without validation data (notebook 01's, as listing 5.3)
        return found
    val, val_loss = found["val_accuracy"], found["val_loss"]
    return {**found, "best_val_accuracy": max(val), "best_epoch": 1 + val.index(max(val)),
            "min_val_loss_epoch": 1 + val_loss.index(min(val_loss))}


def run_id(entry):
    """A short, stable key for a record: notebook, source, machine kind, seed and model where a notebook trains
    two (e.g. 04-kaggle-gpu-s1337, 01-drawn-cpu-s1-dense)."""
    kind = "gpu" if "GPU" in entry["machine"] else "cpu"
    model = f"-{entry['model']}" if entry.get("model") else ""
    return f"{entry['notebook'][:2]}-{entry['source']}-{kind}-s{entry['seed']}{model}"


def from_reference(result, date):
    """A runs.json record from one benchmarks/reference_runs.py result."""
    entry = {key: result[key] for key in ("notebook", "run", "profile", "source", "seed", "epochs", "batch_size",
                                          "steps_per_epoch", "machine", "versions", "test", "fit_seconds")}
    entry.update({key: result[key] for key in ("model", "parameters") if key in result})  # notebook 01: which model
    entry.update(curves(result), how=result["how"], note=result["note"], date=date,
                 estimate_printed=None, book=result.get("book") or book_reference(result["run"]) or None)
    entry.update(estimate_check(result.get("estimate"), result["fit_seconds"]))
    entry["id"] = run_id(entry)
    entry["label"] = (f"notebook {entry['notebook'][:2]}, {entry['profile']} profile, {entry['source']} data, "
                      f"seed {entry['seed']}, {entry['machine'].split(',')[0]}"
                      + (f", {entry['model']}" if entry.get("model") else ""))
    return entry


def record(notebook, models_dir, run, log=None, label=None, seed=None, date=None):
    """The numbers of one run as a dict."""
    import keras
    import tensorflow as tf

    from helpers.config import SEED

    history_file = Path(models_dir) / f"cats_and_dogs_small_{run}.history.json"
    rec = json.loads(history_file.read_text(encoding="utf-8"))
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    text, fit_text = notebook_text(nb), notebook_text(nb, only=FIT_CELL)
    if not fit_text:
        raise ValueError(f"{notebook}: no output of a cell with `history = model.fit(`: pass the executed notebook "
                         "of a full run (04, 06 or 08)")
    # tqdm's bars where a front end saved widget state (all of it: the filter above reaches only cell outputs)
    widgets = json.dumps(nb.get("metadata", {}).get("widgets", {}), ensure_ascii=False)
    steps = rec.get("steps_per_epoch") or -(-rec.get("train_images", 2000) // rec.get("batch_size", 20))
    entry = {
        "label": label or f"notebook run {run}", "notebook": Path(notebook).name, "run": run,
        "machine": f"{cpu_model()}, {os.cpu_count()} cores (CPU only)",
        "profile": rec.get("profile"), "source": rec.get("source"), "seed": SEED if seed is None else seed,
        "epochs": rec.get("epochs"), "batch_size": rec.get("batch_size"), "steps_per_epoch": steps,
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__, "backend": "tensorflow"},
        "date": date, **curves(rec["history"]),
        "test": rec.get("test"),  # notebook 08: its best checkpoint's; the last epoch's as test_last_epoch
        **({"test_last_epoch": rec["test_last_epoch"]} if rec.get("test_last_epoch") else {}),
        "estimate_printed": estimate_line(text),
        "fit_seconds": fit_seconds(fit_text + widgets),
        "notebook_seconds": log_times(log),
        "book": book_reference(run) or None,
    }
    entry.update(estimate_check(rec.get("estimate"), entry["fit_seconds"]))
    entry["id"] = run_id(entry)
    return entry


# How far speed.FitTimeEstimate's estimate may be from the fit's measured time in a recorded full run.
ESTIMATE_TOLERANCE = 0.15


def estimate_check(estimate, fit_s):
    """The estimate saved with the run (FitTimeEstimate's last one printed) against the fit's measured seconds."""
    if not estimate or not fit_s:
        return {}
    check = {"estimate_seconds": round(estimate["total_s"], 1),
             "estimate_error": round(estimate["total_s"] / fit_s - 1, 3)}
    if estimate.get("after_epoch"):
        check["estimate_after_epoch"] = estimate["after_epoch"]
    if abs(check["estimate_error"]) > ESTIMATE_TOLERANCE:
        print(f"record_run: the estimate ({check['estimate_seconds']:.0f} s) is {check['estimate_error']:+.0%} off "
              f"the fit's {fit_s:.0f} s, beyond {ESTIMATE_TOLERANCE:.0%}: look at speed.FitTimeEstimate",
              file=sys.stderr)
    return check


def save(entries):
    """Add entries to runs.json (replacing records with the same id) through a temporary file."""
    runs = json.loads(RUNS.read_text(encoding="utf-8")) if RUNS.exists() else []
    ids = {e["id"] for e in entries}
    runs = [r for r in runs if r.get("id") not in ids] + list(entries)
    write_text_atomic(RUNS, json.dumps(runs, indent=1) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebook", help="the executed notebook (.ipynb with outputs)")
    parser.add_argument("--models-dir", help="COURSE_MODELS_DIR of the run")
    parser.add_argument("--run", type=int, help="1: notebook 04's baseline, 2: notebook 06, 8: notebook 08")
    parser.add_argument("--log", help="the run's log with 'start <s>' and 'end <s>' lines")
    parser.add_argument("--label", help="a name for the run in runs.json")
    parser.add_argument("--seed", type=int, help="the notebook's seed (default: helpers.config.SEED)")
    parser.add_argument("--results", help="a JSON file of benchmarks/reference_runs.py results ({name: result})")
    parser.add_argument("--only", nargs="*", help="with --results: record only these names")
    parser.add_argument("--date", help="the day the run ended, YYYY-MM-DD")
    args = parser.parse_args(argv)
    if args.results:
        results = json.loads(Path(args.results).read_text(encoding="utf-8"))
        if "notebook" in results:  # one result, not a {name: result} mapping
            results = {Path(args.results).stem: results}
        entries = [from_reference(r, args.date) for name, r in results.items()
                   if not args.only or name in args.only]
    elif args.notebook and args.models_dir and args.run:
        try:
            entries = [record(args.notebook, args.models_dir, args.run, args.log, args.label, args.seed, args.date)]
        except (OSError, ValueError) as error:
            print(f"record_run: {error}", file=sys.stderr)
            return 2
    else:
        parser.error("pass --results, or --notebook with --models-dir and --run")
    save(entries)
    for entry in entries:
        print(entry["id"], entry["label"], "final val", entry.get("val_accuracy", [None])[-1], "test", entry["test"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
