"""The real-photo figures quoted in notebooks 04 and 06 are those of the runs recorded in benchmarks/runs.json."""
import json
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
RUNS = {run["id"]: run for run in json.loads((ROOT / "benchmarks" / "runs.json").read_text())}
BASELINE_CPU = "04-kaggle-cpu-s1337"  # the run notebook 04's text describes
BASELINE, AUGMENTED = "04-kaggle-gpu-s1337", "06-kaggle-gpu-s1337"  # the pair notebook 06 compares


def markdown(number, cell_id):
    """The source of one markdown cell of notebook NN."""
    path = next((ROOT / "notebooks").glob(f"{number}_*.ipynb"))
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.get("id") == cell_id]
    assert len(cells) == 1, f"{path.name} has no cell {cell_id}"
    return " ".join(cells[0].source.split())  # line breaks as spaces


def facts(run):
    """The figures the notebooks quote from one recorded run."""
    val_acc, val_loss = run["val_accuracy"], run["val_loss"]
    return {"best": max(val_acc), "best_epoch": val_acc.index(max(val_acc)) + 1,
            "lowest_loss": min(val_loss), "lowest_epoch": val_loss.index(min(val_loss)) + 1,
            "last": val_acc[-1], "last_loss": val_loss[-1], "train": run["accuracy"][-1],
            "test": run["test"]["accuracy"], "epochs": len(val_acc)}


def test_notebook_04_quotes_its_recorded_run():
    run = facts(RUNS[BASELINE_CPU])
    text = markdown("04", "nb04-22")
    for quoted in (f"lowest at epoch {run['lowest_epoch']} ({run['lowest_loss']:.3f})",
                   f"rose to {run['last_loss']:.3f} by epoch {run['epochs']}",
                   f"peaked at {run['best']:.3f} at epoch {run['best_epoch']}",
                   f"ended at {run['last']:.3f}", f"training accuracy reached {run['train']:.3f}"):
        assert quoted in text, f"notebook 04 should say {quoted!r} (benchmarks/runs.json)"
    assert f"({run['last']:.3f} after 30 epochs" in markdown("04", "nb04-00")


def test_notebook_06_table_and_gains_come_from_both_runs():
    base, aug = facts(RUNS[BASELINE]), facts(RUNS[AUGMENTED])
    text = markdown("06", "nb06-15")
    gain = lambda new, old: f"{round(100 * (new / old - 1))}%"  # noqa: E731
    rows = [f"| best validation accuracy | {base['best']:.3f} (epoch {base['best_epoch']}) | "
            f"{aug['best']:.3f} (epoch {aug['best_epoch']}) | {gain(aug['best'], base['best'])} |",
            f"| validation accuracy after the last epoch | {base['last']:.3f} (epoch {base['epochs']}) | "
            f"{aug['last']:.3f} (epoch {aug['epochs']}) | {gain(aug['last'], base['last'])} |",
            f"| test accuracy (1,000 photos) | {base['test']:.3f} | {aug['test']:.3f} | "
            f"{gain(aug['test'], base['test'])} |",
            f"| training accuracy after the last epoch | {base['train']:.3f} | {aug['train']:.3f} | |",
            f"lowest value at epoch {aug['lowest_epoch']} of {aug['epochs']}"]
    for row in rows:
        assert row in text, f"notebook 06 should show {row!r} (benchmarks/runs.json)"
    assert f"({aug['last']:.3f} after 100 epochs, {aug['best']:.3f} at best, in this course's reference run)" \
        in markdown("06", "nb06-00")
