"""Maintainers' tool: the exercise cells of notebooks 01-08 and the solutions notebooks, written from helpers.exercises.

    python tools/exercise_cells.py sections     # (re)write the Exercises section at the end of notebooks 01-08
    python tools/exercise_cells.py solutions    # (re)write notebooks/solutions/*_solutions.ipynb and execute them

The Exercises section starts at the markdown cell beginning with SECTION and runs to the end of the notebook;
rewriting it leaves every cell before it untouched. tests/test_exercises.py checks that both stay in sync with
the registry.
"""
import sys
from pathlib import Path

import colab_cells
import nbformat
import nbtools

from helpers import exercises
from helpers.exercises.messages import say

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOLUTIONS = NOTEBOOKS / "solutions"
SECTION = "## Exercises"
MARKER = nbtools.MARKER


def notebook_path(nb):
    """The course notebook that exercises nb ('01') belong to."""
    return NOTEBOOKS / exercises.MODULES[nb].FILE


def solutions_path(nb):
    """notebooks/solutions/NN_topic_solutions.ipynb for notebook nb."""
    return SOLUTIONS / exercises.MODULES[nb].FILE.replace(".ipynb", "_solutions.ipynb")


def markdown(source, cell_id):
    """A markdown cell with a stable id (rewriting a section changes nothing that did not change)."""
    return nbformat.v4.new_markdown_cell(source, id=cell_id)


def code(source, cell_id):
    """A code cell with a stable id."""
    return nbformat.v4.new_code_cell(source, id=cell_id)


def section_cells(nb):
    """The Exercises section of notebook nb: introduction, imports, then a prompt and an answer cell per exercise."""
    module = exercises.MODULES[nb]
    cells = [markdown(exercises.intro(nb), f"exercises-{nb}"),
             code(f'{module.IMPORTS}\n\nexercises.show("{nb}")', f"exercises-{nb}-imports")]
    for ex in exercises.catalog(nb):
        key = ex.id.replace(".", "-")
        cells += [markdown(exercises.text(ex, "prompt"), f"exercise-{key}"),
                  code(f"{ex.starter.rstrip()}\n\n{ex.check_call()}", f"exercise-{key}-answer")]
    return cells


def section_start(nb_cells):
    """Index of the Exercises section's first cell, or None when the notebook has none yet."""
    for i, cell in enumerate(nb_cells):
        if cell.cell_type == "markdown" and cell.source.startswith(SECTION):
            return i
    return None


def write_section(nb):
    """Replace (or append) notebook nb's Exercises section; the cells before it stay as they are."""
    path = notebook_path(nb)
    book = nbformat.read(path, as_version=4)
    start = section_start(book.cells)
    book.cells = book.cells[:start] + section_cells(nb)
    nbtools.write(book, path)


def notebook_title(nb, path=None):
    """The course notebook's title, from its first '# ' heading (of `path`: the Korean notebook, say)."""
    for cell in nbformat.read(path or notebook_path(nb), as_version=4).cells:
        if cell.cell_type == "markdown" and cell.source.startswith("# "):
            return cell.source.splitlines()[0][2:].strip()
    return exercises.MODULES[nb].FILE


def solutions_cells(nb, title=None, setup=None):
    """The solutions notebook's cells: title, set-up, imports, then each exercise's prompt, explanation and check.

    In the current language (COURSE_LANG); the Korean edition passes its notebook's title and its set-up cell."""
    module = exercises.MODULES[nb]
    intro = (say("cell.solutions_title", title=title or notebook_title(nb)) + "\n\n"
             + say("cell.solutions_intro", file=module.FILE))
    cells = [markdown(intro, "solutions"), code(colab_cells.colab_cell(), colab_cells.COLAB_CELL_ID),
             code(setup or colab_cells.SETUP_CELL, "setup"), code(module.IMPORTS, "imports")]
    for ex in exercises.catalog(nb):
        key = ex.id.replace(".", "-")
        cells += [markdown(f"{exercises.text(ex, 'prompt')}\n\n{say('cell.solution')} "
                           f"{exercises.text(ex, 'explanation')}", f"exercise-{key}"),
                  code(f"{MARKER}\n{ex.solution_code}\n{ex.check_call()}", f"exercise-{key}-solution")]
    return cells


def write_solutions(nb, execute=True):
    """Write notebook nb's solutions notebook; execute it (quick profile) to store the checks' outputs."""
    path = solutions_path(nb)
    path.parent.mkdir(exist_ok=True)
    book = nbformat.v4.new_notebook(cells=solutions_cells(nb))
    nbtools.write(nbtools.strip(book), path)
    if execute:
        nbtools.refresh(path)


def main(argv):
    what, *which = argv or [""]
    for nb in which or list(exercises.MODULES):
        if what == "sections":
            write_section(nb)
            print("ok", notebook_path(nb).name)
        elif what == "solutions":
            write_solutions(nb)
            print("ok", solutions_path(nb).name)
        else:
            raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
