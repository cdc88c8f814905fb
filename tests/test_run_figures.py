"""Every run figure the notebooks and the README quote is written from benchmarks/runs.json (tools/run_figures.py),
and the book's own figures from helpers.book.

A quoted figure carries its name (`<!--04-real.last-->0.760`): it must be the figure runs.json gives, a notebook may
quote only its reference runs (QUOTED), and a figure that looks like one from a run (three decimals, minutes, an
epoch) may not go unnamed.
"""
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import run_figures  # noqa: E402

from helpers import book, references  # noqa: E402

RUNS = run_figures.load_runs()
# What a figure from a run looks like: an accuracy or loss (0.760), a time (13.1 min), an epoch (epoch 23).
RUN_LIKE = re.compile(r"\b0\.\d{3}\b|\b\d+(?:\.\d+)?\s*(?:min|minutes)\b|\bepochs? \d+")
# The validation accuracy the book's text gives (71%, 82%): named too, so that it is labelled and from helpers.book.
BOOK_TEXT = re.compile("|".join(rf"\b{round(100 * v)}\s?%" for v in book.TEXT_VAL_ACCURACY.values()))
# Where the README quotes course runs: its results section and the rows of its speed table about a notebook's fit;
# the rest quotes none (the speed section's other figures come from `make bench`, benchmarks/results.json).
README_RESULTS, README_SPEED, NOTEBOOK_ROW = "## Results", "## Speed", "| notebook 0"


def notebooks():
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def prose(path):
    """The markdown of a notebook before its exercises, cell by cell."""
    cells = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            if cell.source.lstrip().startswith("## Exercises"):
                break
            cells.append(cell.source)
    return cells


def readme_quoting_runs():
    """The README's sections that quote runs, without the results table references.reference_table() writes."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").replace(references.reference_table(), "")
    parts = re.split(r"(?m)^(?=## )", text)
    results = "".join(p for p in parts if p.startswith(README_RESULTS))
    speed = "".join(p for p in parts if p.startswith(README_SPEED))
    rows = [line for line in speed.splitlines() if line.startswith(NOTEBOOK_ROW)]
    return results + "\n".join(rows)


def unnamed(text):
    """Run-like figures in text that carry no name."""
    bare = run_figures.MARKED.sub(" ", text)
    bare = re.sub(r"(?s)```.*?```", " ", bare)  # code blocks quote no run
    return RUN_LIKE.findall(bare) + BOOK_TEXT.findall(bare)


def test_every_quoted_run_exists_and_is_what_its_name_says():
    for name, run_id in run_figures.QUOTED.items():
        run = RUNS[run_id]
        notebook, kind = name.split("-")
        assert run["notebook"].startswith(notebook) and run["profile"] == "full", name
        assert (run["source"] == "synthetic") == (kind == "synthetic"), name


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.name[:2])
def test_a_notebook_quotes_its_reference_runs_as_runs_json_has_them(path):
    for source in prose(path):
        for match in run_figures.MARKED.finditer(source):
            name = match.group(1)
            try:
                expected = run_figures.value(name, RUNS)  # a notebook: only QUOTED's runs and the book
            except KeyError as err:
                raise AssertionError(f"{path.name}: {name} is not a figure a notebook may quote ({err})") from None
            assert match.group(2) == expected, (
                f"{path.name}: {name} says {match.group(2)}, runs.json gives {expected}: python tools/run_figures.py")


@pytest.mark.parametrize("readme", ["README.md", "benchmarks/README.md"])
def test_the_readmes_quote_runs_json_and_the_last_bench(readme):
    text = (ROOT / readme).read_text(encoding="utf-8")
    assert not run_figures.differences(text, RUNS, any_run=True), "python tools/run_figures.py"


def speed_table_figures():
    """The "measured" column of the README's speed table, row by row."""
    speed = re.split(r"(?m)^(?=## )", (ROOT / "README.md").read_text(encoding="utf-8"))
    (section,) = [p for p in speed if p.startswith(README_SPEED)]
    rows = [line.split("|") for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    return [row[2] for row in rows[1:]]


def test_every_figure_of_the_readmes_speed_table_is_named():
    """Each number the speed table says was measured comes from runs.json or results.json, by name."""
    cells = speed_table_figures()
    assert len(cells) >= 8 and sum("<!--bench." in c for c in cells) >= 4, "the README's speed table has moved"
    bare = [re.findall(r"(?<![\w.])\d+(?:[.,]\d+)*", run_figures.MARKED.sub(" ", cell)) for cell in cells]
    bare = [n for numbers in bare for n in numbers if n not in {"04", "06", "08"}]  # notebooks' numbers
    assert not bare, f"the speed table quotes {bare} without naming where they come from (tools/run_figures.py)"


def test_bench_figures_are_read_from_the_results_file():
    results = run_figures.load_bench()
    assert run_figures.value("bench.minutes", RUNS, any_run=True) == str(round(results["bench_seconds"] / 60))
    ratios = results["optional_cell"]["04"]["ratios"]
    assert run_figures.value("bench.cell.04.min", RUNS, any_run=True) == f"{min(ratios):.3f}"
    with pytest.raises(KeyError):
        run_figures.value("bench.matmul", RUNS)  # a notebook quotes no bench figure


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.name[:2])
def test_no_run_figure_in_a_notebook_goes_unnamed(path):
    found = [f for source in prose(path) for f in unnamed(source)]
    assert not found, f"{path.name} quotes {found} without naming the run (see tools/run_figures.py)"


def test_no_run_figure_in_the_readme_goes_unnamed():
    text = readme_quoting_runs()
    assert text.startswith(README_RESULTS) and text.count(NOTEBOOK_ROW) >= 6, "the README's run figures have moved"
    found = unnamed(text)
    assert not found, f"the README quotes {found} without naming the run (see tools/run_figures.py)"


def test_the_notebooks_quote_one_run_per_notebook_and_data():
    """04 and 06 quote the same kind of run for the same model: no CPU run in one and a GPU run in the other."""
    quoted = {m.group(1).split(".")[0] for p in notebooks() for s in prose(p) for m in run_figures.MARKED.finditer(s)}
    quoted = {q for part in quoted for q in part.split(":")} - {"book"}
    assert quoted <= set(run_figures.QUOTED), quoted
    machines = {RUNS[run_figures.QUOTED[q]]["machine"] for q in quoted if q.endswith("-real")}
    assert len(machines) <= 1, f"the notebooks quote real-photo runs from several machines: {machines}"


def test_the_renderer_writes_what_runs_json_says():
    run = RUNS[run_figures.QUOTED["04-real"]]
    text = "ended at <!--04-real.last-->0.111, best <!--04-real.best-->0.2 (<!--06-real.best:04-real.best-->1%)"
    rendered = run_figures.render(text, RUNS)
    assert f"<!--04-real.last-->{run['val_accuracy'][-1]:.3f}," in rendered
    assert f"<!--04-real.best-->{max(run['val_accuracy']):.3f} " in rendered
    assert run_figures.differences(rendered, RUNS) == []
    assert run_figures.value("06-real.fit_min", RUNS) == "57.3"  # 3,435 s, rounded half up
    with pytest.raises(KeyError):
        run_figures.value("04-kaggle-gpu-s1337.last", RUNS)  # a notebook quotes only its reference runs


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.name[:2])
def test_no_named_figure_starts_a_line(path):
    """A line that starts with `<!--` is an HTML block to CommonMark: it breaks the paragraph and is shown raw."""
    starts = [line for source in prose(path) for line in source.splitlines() if line.lstrip().startswith("<!--")]
    assert not starts, f"{path.name}: join these lines to the one before: {starts}"
