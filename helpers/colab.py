"""Google Colab, for when a CPU is not enough: links, the notebooks' first cell, and the set-up it triggers.

On Colab the first cell of every notebook clones the course (only there: elsewhere `import helpers`
just works), then `helpers.setup_notebook()` calls `bootstrap()`, which pip-installs the runtime
requirements (requirements.txt) and the `helpers` package from the clone and prepares the real photos
from Microsoft's archive. After that every notebook runs unchanged, on Colab's GPU when one is attached.

    python -m helpers.colab notebooks/*.ipynb   # add the Colab link and the Colab-aware first cell
"""
import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .config import repo_root

# The course's public repository: the one place its address is written. Set it to where the course
# is published; the Colab links and the notebooks' first cells are made from it.
REPOSITORY = "https://github.com/dlwp-course/chapter5"
BRANCH = "main"
CLONE_DIR = "chapter5"  # in Colab's working folder (/content)
DATA_SOURCE = "microsoft"  # the real photos, no account needed
BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
# The runtime set, pinned: what the notebooks import. Colab installs this file as it is, not the lock
# files, which would also replace the IPython, Tornado and Jupyter packages Colab's own kernel runs on.
REQUIREMENTS = "requirements.txt"
# Modules Colab may have imported before the first cell ({distribution: module}): a version other than
# the one installed means a restart.
PRELOADED = {"numpy": "numpy", "scipy": "scipy", "matplotlib": "matplotlib", "pillow": "PIL",
             "tensorflow": "tensorflow", "keras": "keras", "ipywidgets": "ipywidgets"}
MARKER = ".colab-installed"


def in_colab(modules=None):
    """True inside a Google Colab runtime (its kernel imports google.colab before any cell runs)."""
    return "google.colab" in (sys.modules if modules is None else modules)


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


# ---------------------------------------------------------------- what bootstrap runs on Colab

def has_gpu():
    """True when the machine has an NVIDIA GPU (nvidia-smi is there), as Colab's GPU runtimes do."""
    return shutil.which("nvidia-smi") is not None


def install_commands(repo, gpu=False, python=None):
    """The pip commands: the course's requirements.txt, then the helpers package from the clone.

    With a GPU, TensorFlow comes with its CUDA libraries: pip adds the `and-cuda` extra to the pinned version.
    """
    python = python or sys.executable
    requirements = [python, "-m", "pip", "install", "-q", "-r", str(Path(repo) / REQUIREMENTS)]
    if gpu:
        requirements.append("tensorflow[and-cuda]")
    return [requirements, [python, "-m", "pip", "install", "-q", "--no-deps", "-e", str(repo)]]


def data_command(python=None, source=DATA_SOURCE):
    """The command that prepares the book's split from the real photos (profile from COURSE_PROFILE)."""
    return [python or sys.executable, "-m", "helpers", "data", "--source", source]


def stale_modules(modules=None, installed=importlib.metadata.version):
    """Modules already imported at a version other than the one installed: Colab must restart to load it."""
    modules = sys.modules if modules is None else modules
    stale = []
    for distribution, module_name in PRELOADED.items():
        loaded = getattr(modules.get(module_name), "__version__", None)
        if loaded is None:
            continue
        try:
            version = installed(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
        if loaded != version:
            stale.append(f"{distribution} {loaded} (installed: {version})")
    return stale


def run_streaming(command, cwd=None):
    """Run a command, printing its output in the notebook as it comes; raise if it fails."""
    print("$", " ".join(str(c) for c in command), flush=True)
    proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        print(line, end="", flush=True)
    if proc.wait() != 0:
        raise RuntimeError(f"Colab set-up failed: {' '.join(str(c) for c in command)} exited with "
                           f"{proc.returncode} (see the output above); run this cell again.")


def bootstrap(run=None, modules=None, repo=None, gpu=None, prepared=None):
    """On Colab only: install requirements.txt and helpers, prepare the real photos; else do nothing.

    Returns the commands it ran (an empty list outside Colab). Installing is skipped once done for
    these requirements; the data step is skipped when a split is already prepared.
    """
    if not in_colab(modules):
        return []
    run = run or run_streaming
    repo = Path(repo or repo_root())
    gpu = has_gpu() if gpu is None else gpu
    install = install_commands(repo, gpu)
    wanted = (repo / REQUIREMENTS).read_text(encoding="utf-8") + "\n".join(" ".join(c) for c in install)
    digest = hashlib.sha256(wanted.encode()).hexdigest()
    marker = repo / "build" / MARKER
    commands = []
    if not marker.exists() or marker.read_text(encoding="utf-8").strip() != digest:
        for command in install:
            run(command, cwd=str(repo))
            commands.append(command)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(digest, encoding="utf-8")
    stale = stale_modules(modules)
    if stale:
        raise RuntimeError("Colab had already loaded " + ", ".join(stale) + ". The pinned versions are "
                           "installed now: restart the session (Runtime > Restart session) and run this cell again.")
    if prepared is None:
        from . import data
        prepared = data.current_source() is not None
    if not prepared:
        command = data_command()
        run(command, cwd=str(repo))
        commands.append(command)
    return commands


# ---------------------------------------------------------------- the notebooks

def notebook_problems(nb, name, repository=REPOSITORY):
    """What a notebook lacks for Colab: the badge cell first and the Colab-aware first code cell."""
    problems = []
    if not nb.cells or nb.cells[0].cell_type != "markdown" or nb.cells[0].source != badge_markdown(name, repository):
        problems.append("the first cell is not the Open in Colab badge for this notebook")
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or code[0].source != first_cell(repository):
        problems.append("the first code cell is not helpers.colab.first_cell()")
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
    tmp = path.with_name(f".{path.name}.tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, path)
    return path


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print("colab:", add_to_notebook(arg))
