"""Maintainers' tool: the notebooks' Open in Colab badge and their Colab-aware first cell.

    python tests/colab_cells.py notebooks/*.ipynb   # add the badge and the first cell (safe to re-run)

On Colab the first cell clones the course, then `helpers.setup_notebook()` runs helpers.colab.bootstrap().
tests/test_colab.py and tests/test_notebook_hygiene.py check every notebook against this module.
"""
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this repository's helpers, also as a script
from helpers.files import replacing  # noqa: E402

# The course's public repository: the one place its address is written. Set it to where the course
# is published; the Colab links and the notebooks' first cells are made from it.
REPOSITORY = "https://github.com/dlwp-course/chapter5"
BRANCH = "main"
CLONE_DIR = "chapter5"  # in Colab's working folder (/content)
BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


def repository_path(repository=REPOSITORY):
    """'owner/name' of a GitHub address."""
    match = re.fullmatch(r"https://github\.com/([^/\s]+/[^/\s]+?)(\.git)?/?", repository)
    if not match:
        raise ValueError(f"REPOSITORY must be a https://github.com/OWNER/NAME address, not {repository!r}.")
    return match.group(1)


def colab_url(notebook, repository=REPOSITORY, branch=BRANCH):
    """The address that opens a notebook of the repository in Colab."""
    return (f"https://colab.research.google.com/github/{repository_path(repository)}/blob/{branch}/"
            f"notebooks/{Path(notebook).name}")


def badge_markdown(notebook, repository=REPOSITORY):
    """The 'Open in Colab' badge linking to one notebook."""
    return f"[![Open In Colab]({BADGE})]({colab_url(notebook, repository)})"


def first_cell(repository=REPOSITORY):
    """The first code cell of every notebook: set up; on Colab only, fetch the course first."""
    return (
        "try:\n"
        "    import helpers\n"
        "except ModuleNotFoundError:  # on Colab: fetch the course, then set-up installs and prepares the rest\n"
        "    import os, subprocess, sys\n"
        "    if \"google.colab\" not in sys.modules:\n"
        "        raise\n"
        f"    if not os.path.isdir(\"{CLONE_DIR}\"):\n"
        f"        subprocess.run([\"git\", \"clone\", \"-q\", \"--depth\", \"1\", \"{repository}\"], check=True)\n"
        f"    sys.path.insert(0, os.path.abspath(\"{CLONE_DIR}\"))\n"
        "    import helpers\n"
        "helpers.setup_notebook()")


PLAIN_FIRST_CELL = "import helpers\nhelpers.setup_notebook()"


def notebook_problems(nb, name, repository=REPOSITORY):
    """What a notebook lacks for Colab: the badge cell first and the Colab-aware first code cell."""
    problems = []
    if not nb.cells or nb.cells[0].cell_type != "markdown" or nb.cells[0].source != badge_markdown(name, repository):
        problems.append("the first cell is not the Open in Colab badge for this notebook")
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or code[0].source != first_cell(repository):
        problems.append("the first code cell is not colab_cells.first_cell()")
    return problems


def add_to_notebook(path, repository=REPOSITORY):
    """Give a notebook the Colab badge (a markdown cell at the top) and the Colab-aware first code cell."""
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
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or "setup_notebook(" not in code[0].source:
        raise ValueError(f"{path.name}: the first code cell does not set up the notebook")
    code[0].source = first_cell(repository)
    with replacing(path) as tmp:
        nbformat.write(nb, tmp)
    return path


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print("colab_cells:", add_to_notebook(arg))
