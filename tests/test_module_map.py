"""The module map in CONTRIBUTING.md is current and the imports follow it: downward only, nothing imports widgets."""
import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
HELPERS = REPO / "helpers"
ROW = re.compile(r"^\| (\d) \| `([\w.]+)` \|[^|]*\|([^|]*)\|$")


def module_map():
    """[(layer, module, may import)] of CONTRIBUTING.md's table, in its order (bottom up)."""
    rows = []
    for line in (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8").splitlines():
        match = ROW.match(line.strip())
        if match:
            rows.append((int(match.group(1)), match.group(2), set(re.findall(r"`([\w.]+)`", match.group(3)))))
    return rows


def module_name(path):
    """'data.split' for helpers/data/split.py, 'data' for helpers/data/__init__.py, 'helpers' for the package."""
    parts = path.relative_to(HELPERS).with_suffix("").parts
    parts = parts[:-1] if parts[-1] == "__init__" else parts
    return ".".join(parts) or "helpers"


MODULES = {module_name(p): p for p in sorted(HELPERS.rglob("*.py"))}


def imported_modules(name):
    """The helpers modules a module imports, anywhere in it (named as in the map)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package not in ("", "helpers") else []
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            elif node.module == "helpers" or (node.module or "").startswith("helpers."):
                module = node.module.removeprefix("helpers").lstrip(".")
            else:
                continue
            targets = []
            for alias in node.names:  # `from x import y`: y is a module when x.y is one
                sub = f"{module}.{alias.name}" if module else alias.name
                targets.append(f"helpers.{sub}" if sub in MODULES else f"helpers.{module}" if module else "helpers")
        else:
            continue
        for target in targets:
            if target == "helpers" or target.startswith("helpers."):
                found.add(target.removeprefix("helpers").lstrip(".") or "helpers")
    return found - {name}


def test_the_map_lists_every_module_once():
    listed = [module for _, module, _ in module_map()]
    assert len(listed) == len(set(listed)), "a module has two rows in CONTRIBUTING.md"
    assert sorted(listed) == sorted(MODULES), "CONTRIBUTING.md's module map and helpers/ differ"


def test_the_map_goes_downward_only():
    seen, last_layer = set(), 0
    for layer, module, may_import in module_map():
        assert layer >= last_layer, f"{module}: the table runs from the bottom up"
        assert may_import <= seen, f"{module} may import {sorted(may_import - seen)}, which are not below it"
        assert "widgets" not in may_import, f"{module}: nothing imports widgets"
        seen.add(module)
        last_layer = layer


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_follow_the_map(module):
    may_import = {name: allowed for _, name, allowed in module_map()}[module]
    extra = imported_modules(module) - may_import
    assert not extra, f"helpers/{module} imports {sorted(extra)}: not in its row of CONTRIBUTING.md's module map"


def test_import_reader_resolves_every_form():
    """Relative, absolute, package and submodule imports, read by hand from three modules."""
    assert imported_modules("data.split") == {"config", "files", "data.folders", "data.manifest"}  # `from ..files`
    assert imported_modules("exercises.dataset") == {"config", "data", "data.split", "exercises.core",
                                                     "exercises.answers", "exercises.messages"}
    assert imported_modules("helpers") >= {"colab", "config", "plots", "quiet"}


def test_each_public_function_and_class_has_one_home():
    """No two modules of helpers/ define a public function or class of the same name (a second copy drifts)."""
    homes = {}
    for name, path in MODULES.items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            defines = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            if defines and not node.name.startswith("_"):
                homes.setdefault(node.name, []).append(name)
    twice = {n: modules for n, modules in homes.items() if len(modules) > 1}
    assert not twice, f"defined in more than one module of helpers/ (keep one home, import it elsewhere): {twice}"
