"""The course's prose stays short: a word budget for the markdown a learner reads before each notebook's exercises.

What counts: every markdown cell of a course notebook before its `## Exercises` cell, except notebook 00's course
map (the cell that shows `course_map.png`) and its glossary. A word is a whitespace-separated token of the cell's
source after the HTML comments that name quoted figures (tools/run_figures.py) are removed: a learner never sees
those. Code, tables and links count as they are written.
"""
import re
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
COURSE = 8_000  # every notebook together
PER_NOTEBOOK = 1_000  # any one notebook
LIMITS = {"00": 800, "01": 1_300}  # the start page; the notebook that also opens with the first convnet
HIDDEN = re.compile(r"<!--.*?-->", re.S)


def not_counted(cell):
    """Notebook 00's course map and glossary."""
    return "attachment:course_map.png" in cell.source or cell.get("id") == "nb00-glossary"


def words(path):
    """The words of a notebook's markdown before its exercises."""
    total = 0
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "markdown":
            continue
        if cell.source.lstrip().startswith("## Exercises"):
            break
        if not not_counted(cell):
            total += len(HIDDEN.sub(" ", cell.source).split())
    return total


def counts():
    return {path.name[:2]: words(path) for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))}


def test_each_notebook_keeps_its_budget():
    over = {n: f"{w} > {LIMITS.get(n, PER_NOTEBOOK)}" for n, w in counts().items() if w > LIMITS.get(n, PER_NOTEBOOK)}
    assert not over, f"words of markdown before the exercises, over budget: {over}"


def test_the_course_keeps_its_budget():
    total = sum(counts().values())
    assert total <= COURSE, f"{total} words of markdown before the exercises in the course, budget {COURSE}"


def test_the_glossary_and_the_course_map_are_found():
    """The cells left out of the count exist, so a renamed cell cannot slip into or out of it silently."""
    cells = nbformat.read(NOTEBOOKS / "00_start_here.ipynb", as_version=4).cells
    assert sum(not_counted(c) for c in cells) == 2


if __name__ == "__main__":
    for number, count in counts().items():
        print(number, count)
