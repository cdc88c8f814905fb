"""The Colab path, simulated: detection, links, the set-up cells and the commands they would run (none are run)."""
import importlib.metadata
import json
import subprocess
import sys
import textwrap
import tomllib
import types
from pathlib import Path

import colab_cells
import pytest

from helpers import colab, config

REPO = Path(__file__).resolve().parent.parent
PINS = (REPO / "requirements.txt").read_text(encoding="utf-8")
COLAB = {"google.colab": types.ModuleType("google.colab")}


def test_detection():
    assert colab.in_colab(COLAB)
    assert not colab.in_colab({"google": types.ModuleType("google")})
    assert not colab.in_colab()  # this test does not run on Colab


def test_links_come_from_the_one_address_in_pyproject(tmp_path):
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["urls"]["Repository"] == colab_cells.REPOSITORY
    owner_name = colab_cells.REPOSITORY.removeprefix("https://github.com/")
    url = colab_cells.colab_url("notebooks/04_baseline_convnet.ipynb")
    assert url == (f"https://colab.research.google.com/github/{owner_name}/blob/main/"
                   "notebooks/04_baseline_convnet.ipynb")
    assert colab_cells.badge_markdown("04_baseline_convnet.ipynb") == f"[![Open In Colab]({colab_cells.BADGE})]({url})"
    assert colab_cells.colab_cell().count(colab_cells.REPOSITORY) == 1
    assert colab_cells.repository_path("https://github.com/a/b.git") == "a/b"
    with pytest.raises(ValueError, match="OWNER/NAME"):
        colab_cells.colab_url("x.ipynb", repository="github.com/a")
    # A fork sets its own address; the clone's folder is its repository's name.
    fork = tmp_path / "pyproject.toml"
    fork.write_text('[project]\nname = "x"\n\n[project.urls]\nRepository = "https://github.com/me/my-course"\n')
    address = colab_cells.course_repository(fork)
    assert colab_cells.clone_dir(address) == "my-course"
    assert '"git", "clone", "-q", "--depth", "1", "https://github.com/me/my-course"' in colab_cells.colab_cell(address)
    assert 'os.path.abspath("my-course")' in colab_cells.colab_cell(address)


def test_the_readme_badge_comes_from_the_same_address(tmp_path):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert colab_cells.readme_badges(readme) == [colab_cells.badge_markdown("00_start_here.ipynb")], (
        "the README's Open in Colab badge is not made from pyproject.toml's Repository: "
        "run `python tools/colab_cells.py notebooks/*.ipynb`")
    copy = tmp_path / "README.md"
    copy.write_text(readme, encoding="utf-8")
    assert not colab_cells.update_readme(copy)
    assert colab_cells.update_readme(copy, "https://github.com/me/my-course")
    assert colab_cells.readme_badges(copy.read_text(encoding="utf-8")) == [
        colab_cells.badge_markdown("00_start_here.ipynb", "https://github.com/me/my-course")]


def test_colab_installs_the_runtime_requirements_file_as_it_is(tmp_path):
    python = sys.executable
    cpu, helpers_package = colab.install_commands(tmp_path, gpu=False)
    assert cpu == [python, "-m", "pip", "install", "-q", "-r", str(tmp_path / "requirements.txt")]
    assert helpers_package == [python, "-m", "pip", "install", "-q", "--no-deps", "-e", str(tmp_path)]
    # With a GPU, pip adds TensorFlow's CUDA extra to the version requirements.txt pins.
    assert colab.install_commands(tmp_path, gpu=True)[0] == cpu + ["tensorflow[and-cuda]"]


def fake_repo(tmp_path):
    """A folder with the course's requirements, standing in for the clone."""
    repo = tmp_path / "chapter5"
    repo.mkdir()
    (repo / "requirements.txt").write_text(PINS, encoding="utf-8")
    return repo


def test_bootstrap_does_nothing_outside_colab(tmp_path):
    ran = []
    assert colab.bootstrap(run=lambda c, **k: ran.append(c), repo=fake_repo(tmp_path)) == []
    assert ran == [] and not (tmp_path / "chapter5" / "build").exists()


def test_bootstrap_commands_on_colab(tmp_path):
    repo = fake_repo(tmp_path)
    ran = []
    commands = colab.bootstrap(run=lambda c, **k: ran.append(c), modules=COLAB, repo=repo, gpu=False,
                               prepared=False)
    assert commands == ran and len(ran) == 3
    assert ran[0] == [sys.executable, "-m", "pip", "install", "-q", "-r", str(repo / "requirements.txt")]
    assert ran[1] == [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", str(repo)]
    assert ran[2] == [sys.executable, "-m", "helpers", "data", "--source", "microsoft"]
    # A second run (e.g. after a restart) installs nothing again, and a prepared split is kept.
    assert colab.bootstrap(run=lambda c, **k: ran.append(c), modules=COLAB, repo=repo, gpu=False,
                           prepared=True) == []
    # A GPU runtime changes the requirements, so they are installed again.
    again = colab.bootstrap(run=lambda c, **k: None, modules=COLAB, repo=repo, gpu=True, prepared=True)
    assert len(again) == 2 and again[0][-1] == "tensorflow[and-cuda]"
    # So does a new requirements.txt (a newer clone).
    (repo / "requirements.txt").write_text(PINS + "tqdm==4.70.1\n", encoding="utf-8")
    assert len(colab.bootstrap(run=lambda c, **k: None, modules=COLAB, repo=repo, gpu=True, prepared=True)) == 2


def test_bootstrap_asks_for_a_restart_when_colab_loaded_other_versions(tmp_path):
    old_numpy = types.ModuleType("numpy")
    old_numpy.__version__ = "1.26.4"
    modules = {**COLAB, "numpy": old_numpy}
    numpy_installed = importlib.metadata.version("numpy")
    assert colab.stale_modules(modules) == [f"numpy 1.26.4 (installed: {numpy_installed})"]
    with pytest.raises(RuntimeError, match="restart the session"):
        colab.bootstrap(run=lambda c, **k: None, modules=modules, repo=fake_repo(tmp_path), gpu=False,
                        prepared=True)


def test_preloaded_names_match_the_installed_distributions():
    """Each module's __version__ is its distribution's installed version, so a mismatch means a restart."""
    for distribution, module_name in colab.PRELOADED.items():
        module = importlib.import_module(module_name)
        assert module.__version__ == importlib.metadata.version(distribution), distribution
    assert colab.stale_modules() == []  # here what is loaded is what is installed


SIMULATION = textwrap.dedent('''
    import importlib.abc, json, os, shutil, subprocess, sys, types
    repo, on_colab, folder, cell = sys.argv[1], sys.argv[2] == "colab", sys.argv[3], sys.stdin.read()
    recorded = []
    if on_colab:  # Colab's kernel has imported google.colab (google itself is protobuf's namespace too)
        sys.modules["google.colab"] = types.ModuleType("google.colab")

    class NoHelpersYet(importlib.abc.MetaPathFinder):
        """`import helpers` fails until the clone is on sys.path, as on a fresh Colab runtime."""
        def find_spec(self, name, path, target=None):
            if name == "helpers" and not any(p.endswith(folder) for p in sys.path):
                raise ModuleNotFoundError("No module named 'helpers'", name="helpers")

    real_run, real_popen = subprocess.run, subprocess.Popen

    def course_command(cmd):
        """git, pip or `python -m helpers`: what the Colab path runs (others, e.g. platform's, run for real)."""
        return isinstance(cmd, list) and (cmd[0] == "git" or "pip" in cmd or "helpers" in cmd)

    def fake_run(cmd, *args, **kwargs):
        if not course_command(cmd):
            return real_run(cmd, *args, **kwargs)
        recorded.append(list(cmd))
        if cmd[:2] == ["git", "clone"]:  # the clone: a copy of this repository's package
            os.mkdir(folder)
            shutil.copytree(os.path.join(repo, "helpers"), os.path.join(folder, "helpers"),
                            ignore=shutil.ignore_patterns("__pycache__"))
            shutil.copy(os.path.join(repo, "requirements.txt"), folder)
        return subprocess.CompletedProcess(cmd, 0)

    def fake_popen(cmd, *args, **kwargs):
        if not course_command(cmd):
            return real_popen(cmd, *args, **kwargs)
        recorded.append(list(cmd))
        return types.SimpleNamespace(stdout=iter(()), returncode=0, wait=lambda: 0)

    sys.meta_path.insert(0, NoHelpersYet())
    subprocess.run, subprocess.Popen = fake_run, fake_popen
    try:
        exec(cell, {})
        outcome = "ok"
    except ModuleNotFoundError as err:
        outcome = f"ModuleNotFoundError: {err}"
    print(json.dumps({"outcome": outcome, "commands": recorded}))
''')


def simulate_first_cells(tmp_path, where, cells=None):
    """Run the set-up cells in a fresh Python where `helpers` is not installed; the commands are recorded."""
    work = tmp_path / where
    work.mkdir()
    source = "\n".join(cells or [colab_cells.colab_cell(), colab_cells.SETUP_CELL])
    proc = subprocess.run([sys.executable, "-c", SIMULATION, str(REPO), where, colab_cells.clone_dir()],
                          input=source, cwd=work, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stdout, work


def test_set_up_cells_on_simulated_colab(tmp_path):
    result, stdout, work = simulate_first_cells(tmp_path, "colab")
    assert result["outcome"] == "ok"
    clone, pip_requirements, pip_helpers, prepare = result["commands"]
    assert clone == ["git", "clone", "-q", "--depth", "1", colab_cells.REPOSITORY]
    clone = work / colab_cells.clone_dir()
    assert pip_requirements[1:] == (["-m", "pip", "install", "-q", "-r", str(clone / "requirements.txt")]
                                    + (["tensorflow[and-cuda]"] if colab.has_gpu() else []))
    assert pip_helpers[-2:] == ["-e", str(clone)]
    assert prepare[1:] == ["-m", "helpers", "data", "--source", "microsoft"]
    assert "Profile: quick" in stdout  # then the ordinary set-up ran: seed, style, banner


def test_colab_cell_does_nothing_elsewhere(tmp_path):
    result, stdout, work = simulate_first_cells(tmp_path, "laptop", [colab_cells.colab_cell()])
    assert result == {"outcome": "ok", "commands": []} and stdout.count("\n") == 1  # only the simulation's line
    assert list(work.iterdir()) == []
    # Then, without the course installed, the set-up cell says so.
    result, _, work = simulate_first_cells(tmp_path, "laptop-setup")
    assert result == {"outcome": "ModuleNotFoundError: No module named 'helpers'", "commands": []}
    assert list(work.iterdir()) == []


def test_set_up_cells_with_helpers_installed_only_set_up(capsys):
    path = list(sys.path)
    exec(colab_cells.colab_cell(), {})
    assert sys.path == path and capsys.readouterr().out == ""
    exec(colab_cells.SETUP_CELL, {})
    assert capsys.readouterr().out.startswith(f"Profile: {config.get_profile().name}")


# The set-up before the Colab cell and the set-up cell were two: one cell, which tools/colab_cells.py converts.
FORMER_FIRST_CELL = (
    "try:\n"
    "    import helpers\n"
    "except ModuleNotFoundError:  # on Colab: fetch the course, then set-up installs and prepares the rest\n"
    "    import os, subprocess, sys\n"
    "    if \"google.colab\" not in sys.modules:\n"
    "        raise\n"
    "    if not os.path.isdir(\"chapter5\"):\n"
    "        subprocess.run([\"git\", \"clone\", \"-q\", \"--depth\", \"1\", "
    "\"https://github.com/dlwp-course/chapter5\"], check=True)\n"
    "    sys.path.insert(0, os.path.abspath(\"chapter5\"))\n"
    "    import helpers\n"
    "helpers.setup_notebook()")


@pytest.mark.parametrize("setup", [colab_cells.SETUP_CELL, FORMER_FIRST_CELL], ids=["plain", "former"])
def test_add_to_notebook_converts_in_place_keeping_ids_and_is_idempotent(tmp_path, setup):
    import nbformat

    path = tmp_path / "09_example.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 09", id="nb09-00"),
                nbformat.v4.new_code_cell(setup, id="nb09-01"), nbformat.v4.new_code_cell("print(1)", id="nb09-02")]
    nbformat.write(nb, path)
    assert colab_cells.notebook_problems(nbformat.read(path, as_version=4), path.name)
    colab_cells.add_to_notebook(path)
    once = path.read_bytes()
    colab_cells.add_to_notebook(path)
    assert path.read_bytes() == once
    done = nbformat.read(path, as_version=4)
    assert [c.source for c in done.cells] == [colab_cells.badge_markdown(path.name), "# 09", colab_cells.colab_cell(),
                                              colab_cells.SETUP_CELL, "print(1)"]
    assert [c.id for c in done.cells] == ["open-in-colab", "nb09-00", colab_cells.COLAB_CELL_ID, "nb09-01", "nb09-02"]
    assert colab_cells.notebook_problems(done, path.name) == []
    # A new address reaches both the badge and the Colab cell, in place.
    colab_cells.add_to_notebook(path, "https://github.com/me/my-course")
    moved = nbformat.read(path, as_version=4)
    assert colab_cells.notebook_problems(moved, path.name, "https://github.com/me/my-course") == []
    assert [c.id for c in moved.cells] == [c.id for c in done.cells]


def test_add_to_notebook_refuses_a_notebook_without_set_up(tmp_path):
    import nbformat

    path = tmp_path / "09_example.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")]), path)
    with pytest.raises(ValueError, match="does not set up the notebook"):
        colab_cells.add_to_notebook(path)


@pytest.mark.parametrize("path", sorted((REPO / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_every_notebook_opens_in_colab(path):
    import nbformat

    assert colab_cells.notebook_problems(nbformat.read(path, as_version=4), path.name) == []
