"""Maintainers' tool: write every run figure the course's prose quotes from benchmarks/runs.json.

A quoted figure carries its name in an HTML comment just before it, which no Markdown view shows:

    validation accuracy ended at <!--04-real.last-->0.760 after <!--04-real.epochs-->30 epochs

    python tools/run_figures.py           # rewrite every named figure in the notebooks and the README
    python tools/run_figures.py --check   # list the figures that differ from runs.json; exit 1 if any

A name is RUN.FIGURE. RUN is one of QUOTED's names (the one run a notebook's prose quotes for one kind of data)
or, in the README only, the id of any run in benchmarks/runs.json. FIGURE is one of FIGURES' keys;
`RUN.range.FIGURE` is its range over every recorded run of the same notebook, kind of data and schedule, and
`RUN.runs` their number. `NEW.FIGURE:OLD.FIGURE` is the relative gain of one figure over another, in percent.
`book.NN.text` and `book.NN.final` are the book's figures for notebook NN's model (helpers.book): the figure its
text gives, and the last epoch of its own notebook. `bench.FIGURE` (README and benchmarks/README.md only) is one of
BENCH_FIGURES' keys, from the last `make bench` (benchmarks/results.json).
tests/test_run_figures.py checks that every named figure is the one runs.json gives, and that no run figure goes
unnamed.
"""
import json
import re
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # this repository's helpers, also as a script
from helpers import book  # noqa: E402
from helpers.files import replacing  # noqa: E402

# The run each notebook quotes, by notebook and kind of data: its name in the prose -> its id in runs.json.
# The real photos: each notebook itself executed in the full profile on a 2-core CPU (its accuracies and its time);
# the synthetic set: benchmarks/reference_runs.py on a GPU machine, except 06 (and 07, which shows its model's
# figures): the notebook itself on a 2-core CPU, whose saved model drew 07's figures. Provenance: benchmarks/README.md.
QUOTED = {
    "04-real": "04-kaggle-cpu-s1337",
    "06-real": "06-kaggle-cpu-s1337",
    "08-real": "08-kaggle-cpu-s1337",
    "04-synthetic": "04-synthetic-gpu-s1337",
    "06-synthetic": "06-synthetic-cpu-s1337",
}


def _half_up(number, step):
    """number rounded half up to step ('0.1'), as a person rounds: 57.25 -> '57.3'."""
    return str(Decimal(str(number)).quantize(Decimal(step), rounding=ROUND_HALF_UP))


def _first(values, pick):
    """The 1-based epoch of the first value equal to pick(values)."""
    return values.index(pick(values)) + 1


FIGURES = {
    "last": lambda r: f"{r['val_accuracy'][-1]:.3f}",  # validation accuracy after the last epoch
    "best": lambda r: f"{max(r['val_accuracy']):.3f}",  # the best epoch's validation accuracy
    "best_epoch": lambda r: str(_first(r["val_accuracy"], max)),
    "train": lambda r: f"{r['accuracy'][-1]:.3f}",  # training accuracy after the last epoch
    "test": lambda r: f"{r['test']['accuracy']:.3f}",  # test accuracy of the model the notebook keeps
    "test_last": lambda r: f"{r['test_last_epoch']['accuracy']:.3f}",  # notebook 08: the last epoch's
    "lowest_loss": lambda r: f"{min(r['val_loss']):.3f}",  # the lowest validation loss
    "lowest_loss_epoch": lambda r: str(_first(r["val_loss"], min)),
    "last_loss": lambda r: f"{r['val_loss'][-1]:.3f}",
    "epochs": lambda r: str(len(r["val_accuracy"])),
    "lowest_loss_accuracy": lambda r: f"{r['val_accuracy'][_first(r['val_loss'], min) - 1]:.3f}",  # 08's checkpoint
    "fit_min": lambda r: _half_up(r["fit_seconds"] / 60, "0.1"),  # minutes of model.fit, 3,435 s: 57.3
    "estimate_min": lambda r: _half_up(r["estimate_seconds"] / 60, "0.1"),  # the estimate printed before the fit
    "estimate_error": lambda r: f"{abs(round(100 * r['estimate_error']))}%",  # how far off it was (high or low)
    "original_validation": lambda r: f"{r['on_original_photos']['validation']:.3f}",  # GPU runs: on the originals
    "original_test": lambda r: f"{r['on_original_photos']['test']:.3f}",
}
NUMBER = r"\d+(?:[.,]\d+)*(?:-\d+(?:[.,]\d+)*)?%?"  # a rendered figure: 0.760, 23, 57.3, 0.717-0.768, 8%
MARKED = re.compile(r"<!--\s*([\w.:-]+)\s*-->(" + NUMBER + r")?")


def _bench_fit(results, notebook, side, what):
    fit = results["optional_cell"][notebook] if side == "cell" else results["precision"]["end_to_end"][notebook]
    return f"{fit[what]:.3f}" if what in ("min", "median") else _half_up(fit["epoch_s"][what], "0.1")


BENCH_FIGURES = {  # name -> the text it renders to, from benchmarks/results.json
    "minutes": lambda b: str(round(b["bench_seconds"] / 60)),
    "matmul": lambda b: f"{b['rates']['matmul_gflops']:.0f}",  # GFLOP/s
    "train": lambda b: f"{b['rates']['train_images_per_s']:.0f}",  # images/s
    "train_fraction": lambda b: f"{b['rates']['train_fraction_of_matmul']:.2f}",
    "inference": lambda b: f"{b['rates']['inference_images_per_s']:.0f}",
    "rounds": lambda b: str(b["fits_run"]["rounds"]),
    **{f"bf16.{nb}.{part}": (lambda b, nb=nb, part=part: f"{b['precision']['steps'][nb][part]:.2f}")
       for nb in ("04", "06") for part in ("train_median", "train_min", "eval_median")},
    **{f"cell.{nb}.{what}": (lambda b, nb=nb, what=what: _bench_fit(b, nb, "cell", what))
       for nb in ("04", "06") for what in ("min", "median", "book", "cell")},
}


def load_bench():
    """The last `make bench`'s results."""
    return json.loads((REPO / "benchmarks" / "results.json").read_text(encoding="utf-8"))


def load_runs():
    """Every recorded run by id."""
    return {r["id"]: r for r in json.loads((REPO / "benchmarks" / "runs.json").read_text(encoding="utf-8"))}


def _run(name, runs, any_run):
    if name in QUOTED:
        return runs[QUOTED[name]]
    if any_run and name in runs:
        return runs[name]
    raise KeyError(f"no quoted run {name!r}" + ("" if any_run else " (a notebook quotes only QUOTED's runs)"))


def _same_kind(run, runs):
    """Every recorded full run of the same notebook, kind of data and schedule as run."""
    family = "synthetic" if run["source"] == "synthetic" else "real"
    return [r for r in runs.values() if r["notebook"] == run["notebook"] and r.get("profile") == "full"
            and ("synthetic" if r["source"] == "synthetic" else "real") == family
            and r.get("steps_per_epoch") == run.get("steps_per_epoch")]


def _book(notebook, what):
    if what == "text":
        return f"{round(100 * book.TEXT_VAL_ACCURACY[notebook])}%"
    if what == "final":
        return f"{book.FINAL_VAL_ACCURACY[notebook]:.3f}"
    raise KeyError(f"no book figure {what!r}")


def value(name, runs, any_run=False):
    """The text a figure's name renders to, e.g. '0.760' for '04-real.last'."""
    if ":" in name:
        new, old = (float(value(part, runs, any_run)) for part in name.split(":"))
        return f"{round(100 * (new / old - 1))}%"
    parts = name.split(".")
    if parts[0] == "book":
        return _book(*parts[1:])
    if parts[0] == "bench":
        if not any_run:
            raise KeyError(f"{name!r}: only the READMEs quote the bench")
        return BENCH_FIGURES[".".join(parts[1:])](load_bench())
    run = _run(parts[0], runs, any_run)
    if parts[1] == "runs":
        return str(len(_same_kind(run, runs)))
    if parts[1] == "range":
        texts = sorted({FIGURES[parts[2]](r) for r in _same_kind(run, runs)}, key=float)
        return texts[0] if len(texts) == 1 else f"{texts[0]}-{texts[-1]}"
    return FIGURES[parts[1]](run)


def render(text, runs, any_run=False):
    """text with every named figure written from runs.json."""
    return MARKED.sub(lambda m: f"<!--{m.group(1)}-->{value(m.group(1), runs, any_run)}", text)


def documents():
    """(path, is_readme) of every file whose prose quotes runs: the course notebooks and the READMEs."""
    return ([(p, False) for p in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
            + [(REPO / "README.md", True), (REPO / "benchmarks" / "README.md", True)])


def differences(text, runs, any_run=False):
    """(name, written, expected) of every named figure in text that differs from runs.json."""
    found = []
    for m in MARKED.finditer(text):
        expected = value(m.group(1), runs, any_run)
        if m.group(2) != expected:
            found.append((m.group(1), m.group(2), expected))
    return found


def main(argv):
    check = "--check" in argv
    runs, wrong = load_runs(), []
    for path, is_readme in documents():
        if is_readme:
            text = path.read_text(encoding="utf-8")
            wrong += [(path.name, *d) for d in differences(text, runs, True)]
            if not check and render(text, runs, True) != text:
                with replacing(path) as tmp:
                    Path(tmp).write_text(render(text, runs, True), encoding="utf-8")
            continue
        nb = nbformat.read(path, as_version=4)  # read right before writing: others edit the notebooks too
        changed = False
        for cell in nb.cells:
            if cell.cell_type == "markdown" and "<!--" in cell.source:
                wrong += [(path.name, *d) for d in differences(cell.source, runs)]
                new = render(cell.source, runs)
                changed |= new != cell.source
                cell.source = new
        if changed and not check:
            with replacing(path) as tmp:
                nbformat.write(nb, tmp)
    for where, name, written, expected in wrong:
        print(f"{where}: {name} says {written}, runs.json (results.json for bench.) gives {expected}")
    return 1 if check and wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
