"""Reference runs: the full-profile runs recorded in benchmarks/runs.json, and what they lead a learner to expect.

    runs = references.reference_runs("04", "kaggle")    # every recorded full run of notebook 04 on real photos
    print(references.expected_line("04", "kaggle"))    # "4 full runs on the real photos ended at 0.72-0.77 ..."
"""
import json

from . import book, i18n
from .config import repo_root
from .data import SYNTHETIC
from .i18n import say

# The sentences a notebook prints; the README's table (reference_table) and source_name stay English.
i18n.messages({
    "references.synthetic": "the synthetic set",
    "references.real": "the real photos",
    "references.book": "the book: {accuracy:.2f}",
    "references.none": "No full run of notebook {notebook} on {data} is recorded yet ({book}).",
    "references.runs_one": "1 full run",
    "references.runs_many": "{count} full runs",
    "references.expected": "{runs} on {data} ended at {validation} validation accuracy",
    "references.expected_test": "{line} and {test} test accuracy",
    "references.expected_book": "{line} ({book}, real photos).",
    "references.seconds": "{seconds:.0f} s",
    "references.minutes": "{minutes} min",
    "references.hours": "{hours} h {minutes} min",
    "references.no_date": "date not recorded",
    "references.fit_runs": "{count} runs, ",
    "references.fit_machine": "{time} on {machine}, {runs}{dates}",
    "references.fit_time": "Recorded full runs of notebook {notebook} on {data}: model.fit took {times}.",
    "references.digits.drawn": "the drawn digits",
    "references.digits.book": "the book, on MNIST: {convnet:.3f} and {dense:.3f}",
    "references.digits.none": "No full runs of notebook 01 on {data} are recorded yet ({book}).",
    "references.digits.seeds_differ": "{convnet} and {dense}",
    "references.digits.expected": "Recorded full runs on {data} ({seeds} seeds each), test accuracy: convnet "
                                  "{convnet}, dense network {dense} ({book}).",
})


def runs_file():
    """benchmarks/runs.json in the course repository."""
    return repo_root() / "benchmarks" / "runs.json"


def load_runs():
    """Every recorded run (a list of dicts), or [] when the file is missing."""
    path = runs_file()
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def _source_family(source):
    """Every real-photo source counts as one: the same photos in other archives."""
    return SYNTHETIC if source == SYNTHETIC else "real"


def source_name(source):
    """'the synthetic set' or 'the real photos', for sentences and titles."""
    return "the synthetic set" if source == SYNTHETIC else "the real photos"


def source_words(source):
    """'the synthetic set' or 'the real photos' in the learner's language, for the sentences a notebook prints."""
    return say("references.synthetic" if source == SYNTHETIC else "references.real")


def reference_runs(notebook, source):
    """The full-profile records of a notebook ('04' or '06') at the book's schedule on this kind of data.

    A record made with another number of steps per epoch than the book's is not a reference.
    """
    return [r for r in load_runs()
            if r["notebook"].startswith(notebook) and r.get("profile") == "full"
            and _source_family(r.get("source")) == _source_family(source)
            and r.get("steps_per_epoch") == book.STEPS_PER_EPOCH.get(notebook, r.get("steps_per_epoch"))]


def span(values, digits=2):
    """'0.72-0.77' for several values, '0.72' for one."""
    low, high = round(min(values), digits), round(max(values), digits)
    return f"{low:.{digits}f}" if low == high else f"{low:.{digits}f}-{high:.{digits}f}"


def expected_line(notebook, source):
    """One sentence: how the recorded full runs ended (validation, test), next to the book's figure."""
    runs = reference_runs(notebook, source)
    name = source_words(source)
    figure = book.FINAL_VAL_ACCURACY.get(notebook)
    quoted = say("references.book", accuracy=figure) if figure is not None else ""
    if not runs:
        return say("references.none", notebook=notebook, data=name, book=quoted)
    val = [r["val_accuracy"][-1] for r in runs]
    test = [r["test"]["accuracy"] for r in runs if r.get("test")]
    many = say("references.runs_many", count=len(runs)) if len(runs) > 1 else say("references.runs_one")
    line = say("references.expected", runs=many, data=name, validation=span(val))
    if test:
        line = say("references.expected_test", line=line, test=span(test))
    return say("references.expected_book", line=line, book=quoted) if quoted else f"{line}."


def machines(runs):
    """The machines and dates the runs come from, as one short text."""
    seen = sorted({f"{r['machine'].split(',')[0]} ({r.get('date') or 'date not recorded'})" for r in runs})
    return "; ".join(seen)


def runs_by_machine(runs):
    """'seeds 1337 on AMD EPYC (2026-11-28); seeds 1337, 1, 2 on NVIDIA H200 GPU (2026-11-30)'."""
    groups = {}
    for r in runs:
        where = f"{r['machine'].split(',')[0]} ({r.get('date') or 'date not recorded'})"
        groups.setdefault(where, []).append(r["seed"])
    return "; ".join(f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))} on {machine}"
                     for machine, seeds in groups.items())


def reference_table():
    """The README's Markdown table of the reference runs: ranges over seeds, machines and dates, and the book's."""
    rows = ["| notebook | data | runs | final validation accuracy (best) | test accuracy | final training accuracy "
            "| the book's notebook, final validation |",
            "|---|---|---|---|---|---|---|"]
    for notebook in ("04", "06"):
        for source in ("kaggle", "synthetic"):
            runs = reference_runs(notebook, source)
            if not runs:
                continue
            rows.append(
                f"| {notebook} | {source_name(source)} | {len(runs)}: {runs_by_machine(runs)} "
                f"| {span([r['val_accuracy'][-1] for r in runs], 3)} "
                f"({span([max(r['val_accuracy']) for r in runs], 3)}) "
                f"| {span([r['test']['accuracy'] for r in runs], 3)} | {span([r['accuracy'][-1] for r in runs], 3)} "
                f"| {book.FINAL_VAL_ACCURACY[notebook]:.3f} |")
    return "\n".join(rows)


def duration(seconds):
    """'37 s', '13 min', '1 h 43 min': a fit's time as a learner reads it (in the learner's language)."""
    if seconds < 90:
        return say("references.seconds", seconds=seconds)
    whole = round(seconds / 60)
    if whole < 90:
        return say("references.minutes", minutes=whole)
    return say("references.hours", hours=whole // 60, minutes=whole % 60)


def fit_time_line(notebook, source):
    """One line before a full fit: how long `model.fit` took in the recorded full runs, on which machines; or None.

    notebook: '04', '06' or '08'; source: the prepared data's source. Runs are grouped by machine, each with its
    fit times (a range over several runs) and dates, from benchmarks/runs.json.
    """
    runs = [r for r in reference_runs(notebook, source) if r.get("fit_seconds")]
    if not runs:
        return None
    groups = {}
    for r in runs:
        groups.setdefault(r["machine"], []).append(r)
    parts = []
    for machine, group in groups.items():
        low, high = (duration(f(r["fit_seconds"] for r in group)) for f in (min, max))
        dates = ", ".join(sorted({r.get("date") or say("references.no_date") for r in group}))
        runs_text = say("references.fit_runs", count=len(group)) if len(group) > 1 else ""
        parts.append(say("references.fit_machine", time=low if low == high else f"{low}-{high}", machine=machine,
                         runs=runs_text, dates=dates))
    return say("references.fit_time", notebook=notebook, data=source_words(source), times="; ".join(parts))


DIGIT_SOURCES = {"drawn": "the drawn digits", "mnist": "MNIST"}


def digit_words(source):
    """The digits' name in the learner's language: 'the drawn digits'; 'MNIST' is a name in every language."""
    return say("references.digits.drawn") if source == "drawn" else DIGIT_SOURCES.get(source, source)


def digit_runs(source):
    """Notebook 01's recorded full runs on these digits ('drawn' or 'mnist'), by model: {'convnet': [...], ...}."""
    runs = [r for r in load_runs() if r["notebook"].startswith("01") and r.get("profile") == "full"
            and r.get("source") == source]
    return {model: [r for r in runs if r.get("model") == model] for model in ("convnet", "dense")}


def digits_expected_line(source):
    """One sentence: the test accuracies of notebook 01's recorded runs of both models, next to the book's."""
    runs = digit_runs(source)
    quoted = say("references.digits.book", convnet=book.MNIST_TEST_ACCURACY["convnet"],
                 dense=book.MNIST_TEST_ACCURACY["dense"])
    name = digit_words(source)
    if not runs["convnet"] or not runs["dense"]:
        return say("references.digits.none", data=name, book=quoted)
    conv, dense = ([r["test"]["accuracy"] for r in runs[m]] for m in ("convnet", "dense"))
    seeds = len(conv) if len(conv) == len(dense) else say("references.digits.seeds_differ", convnet=len(conv),
                                                          dense=len(dense))
    return say("references.digits.expected", data=name, seeds=seeds, convnet=span(conv, 4), dense=span(dense, 4),
               book=quoted)
