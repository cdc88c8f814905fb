"""Maintainers' tool: the notebooks' Open in Colab badge and their two set-up cells, made from the course's address.

    python tools/colab_cells.py notebooks/*.ipynb   # badge and set-up cells of each notebook, and the README's badge

The address is `Repository` in pyproject.toml's [project.urls], the one place it is written. A notebook's set-up is
two code cells: a short one for Colab that does nothing elsewhere (it clones the course there), then
`import helpers` / `helpers.setup_notebook()`, which on Colab runs helpers.colab.bootstrap(). Safe to re-run: it
converts the former one-cell set-up in place and keeps every cell id. tests/test_colab.py and
tests/test_notebook_hygiene.py check every notebook against this module.
"""
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this repository's helpers, also as a script
from helpers.files import replacing, write_text_atomic  # noqa: E402

PYPROJECT = ROOT / "pyproject.toml"
README = ROOT / "README.md"
BRANCH = "main"
BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
COLAB_COMMENT = "# Colab only: fetch the course; does nothing elsewhere"
SETUP_CELL = "import helpers\nhelpers.setup_notebook()"
SETUP_CELL_KO = 'import helpers\nhelpers.setup_notebook(lang="ko")'  # the Korean edition's (notebooks/ko/)


def setup_cell(path):
    """The set-up cell a notebook at `path` has: the Korean one under notebooks/ko/."""
    folder = Path(path).parent
    return SETUP_CELL_KO if "ko" in (folder.name, folder.parent.name if folder.name == "solutions" else "") \
        else SETUP_CELL
COLAB_CELL_ID = "colab-fetch"  # a stable id: the same file every time
README_NOTEBOOK = "00_start_here.ipynb"  # the notebook the README's badge opens


def course_repository(pyproject=PYPROJECT):
    """The course's public address: `Repository` in pyproject.toml's [project.urls]."""
    return tomllib.loads(Path(pyproject).read_text(encoding="utf-8"))["project"]["urls"]["Repository"]


REPOSITORY = course_repository()


def repository_path(repository=REPOSITORY):
    """'owner/name' of a GitHub address."""
    match = re.fullmatch(r"https://github\.com/([^/\s]+/[^/\s]+?)(\.git)?/?", repository)
    if not match:
        raise ValueError(f"the course's Repository URL must be a https://github.com/OWNER/NAME address, "
                         f"not {repository!r}.")
    return match.group(1)


def clone_dir(repository=REPOSITORY):
    """The folder `git clone` makes in Colab's working folder (/content): the repository's name."""
    return repository_path(repository).split("/")[1]


def colab_url(notebook, repository=REPOSITORY, branch=BRANCH):
    """The address that opens a notebook of the repository in Colab."""
    return (f"https://colab.research.google.com/github/{repository_path(repository)}/blob/{branch}/"
            f"notebooks/{Path(notebook).name}")


def badge_markdown(notebook, repository=REPOSITORY):
    """The 'Open in Colab' badge linking to one notebook."""
    return f"[![Open In Colab]({BADGE})]({colab_url(notebook, repository)})"


def colab_cell(repository=REPOSITORY):
    """The first code cell of every notebook: on Colab, fetch the course and put it on sys.path; elsewhere nothing."""
    folder = clone_dir(repository)
    return (
        f"{COLAB_COMMENT}\n"
        "import sys\n"
        "if \"google.colab\" in sys.modules:\n"
        "    import os, subprocess\n"
        f"    if not os.path.isdir(\"{folder}\"):\n"
        f"        subprocess.run([\"git\", \"clone\", \"-q\", \"--depth\", \"1\", \"{repository}\"], check=True)\n"
        f"    sys.path.insert(0, os.path.abspath(\"{folder}\"))")


def _code_indices(nb):
    """Positions of the notebook's code cells among all its cells."""
    return [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]


def notebook_problems(nb, name, repository=REPOSITORY, badge=True, setup=SETUP_CELL):
    """What a notebook lacks: the badge cell first (badge=True), then the Colab cell and the set-up cell, adjacent."""
    problems = []
    if badge and (not nb.cells or nb.cells[0].cell_type != "markdown"
                  or nb.cells[0].source != badge_markdown(name, repository)):
        problems.append("the first cell is not the Open in Colab badge for this notebook")
    code = _code_indices(nb)
    if not code or nb.cells[code[0]].source != colab_cell(repository):
        problems.append("the first code cell is not colab_cells.colab_cell()")
    if len(code) < 2 or code[1] != code[0] + 1 or nb.cells[code[1]].source != setup:
        problems.append("the Colab cell is not followed by the set-up cell (colab_cells.SETUP_CELL)")
    return problems


def set_up_cells(nb, repository=REPOSITORY, name="notebook"):
    """Make the notebook's set-up the Colab cell then SETUP_CELL, in place; return nb.

    Takes either form: the two cells (brought up to date), a plain set-up cell (the Colab cell goes before it), or
    the former one-cell bootstrap (it becomes the set-up cell, keeping its id, after a new Colab cell).
    """
    import nbformat

    code = _code_indices(nb)
    if not code:
        raise ValueError(f"{name}: no code cell to set up")
    first = nb.cells[code[0]]
    if first.source.startswith(COLAB_COMMENT):
        first.source = colab_cell(repository)
        after = code[0] + 1
        if after >= len(nb.cells) or nb.cells[after].cell_type != "code" \
                or "setup_notebook(" not in nb.cells[after].source:
            raise ValueError(f"{name}: the Colab cell is not followed by the set-up cell")
        nb.cells[after].source = SETUP_CELL
        return nb
    if "setup_notebook(" not in first.source:
        raise ValueError(f"{name}: the first code cell does not set up the notebook")
    first.source = SETUP_CELL  # the former bootstrap, or already the plain set-up: its id stays
    nb.cells.insert(code[0], nbformat.v4.new_code_cell(colab_cell(repository), id=COLAB_CELL_ID))
    return nb


def add_to_notebook(path, repository=REPOSITORY):
    """Give a notebook the Colab badge (a markdown cell at the top) and the two set-up cells."""
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    badge = badge_markdown(path.name, repository)
    is_badge = lambda c: c.cell_type == "markdown" and "colab-badge.svg" in c.source  # noqa: E731
    if nb.cells and is_badge(nb.cells[0]):
        nb.cells[0].source = badge
    else:
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(badge))
    nb.cells[0].id = "open-in-colab"  # a stable id: the same file every time
    set_up_cells(nb, repository, path.name)
    with replacing(path) as tmp:
        nbformat.write(nb, tmp)
    return path


BADGE_LINE = re.compile(r"^\[!\[Open In Colab\]\(" + re.escape(BADGE) + r"\)\]\([^)\s]*\)$", re.MULTILINE)


def readme_badges(text):
    """The Open in Colab badge lines of the README."""
    return BADGE_LINE.findall(text)


def update_readme(path=README, repository=REPOSITORY):
    """Point the README's badge at notebook 00 of the course's address; True when the file changed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    badge = badge_markdown(README_NOTEBOOK, repository)
    new = BADGE_LINE.sub(lambda _: badge, text)
    if new == text:
        return False
    write_text_atomic(path, new)
    return True


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print("colab_cells:", add_to_notebook(arg))
    if update_readme():
        print("colab_cells: README.md's badge")
