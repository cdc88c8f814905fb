"""The requirement files agree: every direct pin is in its lock at the same version, the dev lock holds the runtime
lock, the runtime set is what helpers/ and the notebooks import, and the locks are made for a supported Python."""
import ast
import importlib.metadata
import json
import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = (REPO / "pyproject.toml").read_text(encoding="utf-8")
# ImageDataGenerator's rotate/shear/zoom import scipy.ndimage, which neither Keras nor TensorFlow requires.
RUNTIME_BUT_NOT_IMPORTED = {"scipy"}
# Imported by helpers/ or the notebooks but installed with requirements-dev.txt only (none: the notebook editors,
# which import nbformat, are maintainers' tools in tools/).
IMPORTED_BUT_DEV = set()


def requirements(name):
    """{canonical name: Requirement} of a requirements file, following its `-r` includes."""
    out = {}
    for line in (REPO / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            out.update(requirements(line[3:].strip()))
        elif line and not line.startswith("-"):
            req = Requirement(line)
            out[canonicalize_name(req.name)] = req
    return out


def pinned_version(req):
    """The version of an exact `name==version` pin (the lock files hold nothing else)."""
    (spec,) = req.specifier
    assert spec.operator == "==" and "*" not in spec.version and not req.extras and not req.marker, str(req)
    return spec.version


def lock_python(name):
    """The --python-version a lock file was made for, from the command in its header."""
    return re.search(r"--python-version (\S+)", (REPO / name).read_text(encoding="utf-8")).group(1)


def requires_python():
    """pyproject.toml's requires-python."""
    return SpecifierSet(re.search(r'^requires-python = "(.*)"', PYPROJECT, re.M).group(1))


@pytest.mark.parametrize("direct, lock", [("requirements.txt", "requirements.lock"),
                                          ("requirements-dev.txt", "requirements-dev.lock")])
def test_every_direct_pin_is_in_its_lock(direct, lock):
    locked = {name: pinned_version(req) for name, req in requirements(lock).items()}
    for name, req in requirements(direct).items():
        assert name in locked, f"{name} is in {direct} but not in {lock}: run `make lock`"
        assert locked[name] == pinned_version(req), f"{name}: {direct} and {lock} differ: run `make lock`"


def test_the_dev_lock_holds_the_runtime_lock_at_the_same_versions():
    runtime = {name: pinned_version(req) for name, req in requirements("requirements.lock").items()}
    dev = {name: pinned_version(req) for name, req in requirements("requirements-dev.lock").items()}
    assert runtime and {name: dev.get(name) for name in runtime} == runtime
    assert len(dev) > len(runtime)


def test_locks_are_made_for_a_supported_python():
    supported = requires_python()
    for lock in ("requirements.lock", "requirements-dev.lock"):
        assert lock_python(lock) in supported, lock
    assert f"--python-version {lock_python('requirements.lock')} " in (REPO / "Makefile").read_text()
    assert sys.version.split()[0] in supported  # the interpreter running the tests


def test_the_readme_states_the_same_python_range():
    """README.md says 'Python A to B' for pyproject.toml's '>=A,<C' (B is the version before C)."""
    specs = {spec.operator: spec.version for spec in requires_python()}
    major, minor = specs["<"].split(".")[:2]
    assert f"Python {specs['>=']} to {major}.{int(minor) - 1}" in (REPO / "README.md").read_text(encoding="utf-8")


def test_this_environment_has_the_locked_versions():
    """What `make setup` installed is what the dev lock pins (ruff and uv included)."""
    for name, req in requirements("requirements-dev.lock").items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        assert installed == pinned_version(req), f"{name}: {installed} installed, the lock pins {req}: run make setup"


def third_party_imports(source):
    """Top-level names of the modules a piece of code imports (relative imports left out)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"helpers"}


def test_the_runtime_set_is_what_helpers_and_the_notebooks_import():
    modules = set()
    for path in (REPO / "helpers").rglob("*.py"):
        modules |= third_party_imports(path.read_text(encoding="utf-8"))
    for path in (REPO / "notebooks").rglob("*.ipynb"):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                code = [line for line in "".join(cell["source"]).splitlines() if not line.startswith(("%", "!"))]
                modules |= third_party_imports("\n".join(code))
    distributions = importlib.metadata.packages_distributions()
    imported = {canonicalize_name(distributions[m][0]) for m in modules}
    assert set(requirements("requirements.txt")) == imported - IMPORTED_BUT_DEV | RUNTIME_BUT_NOT_IMPORTED
    assert set(requirements("requirements-dev.txt")) >= IMPORTED_BUT_DEV
