"""Google Colab, for when a CPU is not enough: the set-up the notebooks' set-up cell triggers there.

On Colab the first code cell of every notebook clones the course and puts it on sys.path (elsewhere it does
nothing; tools/colab_cells.py writes it), then the set-up cell's `helpers.setup_notebook()` calls `bootstrap()`,
which pip-installs the runtime requirements (requirements.txt) and the `helpers` package from the clone
and prepares the real photos from Microsoft's archive. After that every notebook runs unchanged, on
Colab's GPU when one is attached.
"""
import hashlib
import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

from .config import repo_root
from .files import write_text_atomic

# The runtime set, pinned: what the notebooks import. Colab installs this file as it is, not the lock
# files, which would also replace the IPython, Tornado and Jupyter packages Colab's own kernel runs on.
REQUIREMENTS = "requirements.txt"
# Modules Colab may have imported before the first cell ({distribution: module}): a version other than
# the one installed means a restart.
PRELOADED = {"numpy": "numpy", "scipy": "scipy", "matplotlib": "matplotlib", "pillow": "PIL",
             "tensorflow": "tensorflow", "keras": "keras", "ipywidgets": "ipywidgets"}
MARKER = ".colab-installed"
DATA_SOURCE = "microsoft"  # the real photos, no account needed


def in_colab(modules=None):
    """True inside a Google Colab runtime (its kernel imports google.colab before any cell runs)."""
    return "google.colab" in (sys.modules if modules is None else modules)


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
        write_text_atomic(marker, digest)
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
