"""`make test` runs every notebook once: with Chromium the course notebooks in the browser, solutions under nbval."""
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def planned(chromium):
    """The commands `make test` would run (make -n), for a Chromium path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    out = subprocess.run(["make", "-n", "--no-print-directory", "test", f"CHROMIUM={chromium}"], cwd=REPO, env=env,
                         capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def nbval_targets(lines):
    """What each planned nbval run collects: its paths (after `pytest`, not options) and the paths it ignores."""
    found = []
    for line in lines:
        if "--nbval-lax" in line and "pytest" in line:
            words = shlex.split(line)
            args = words[words.index("pytest") + 1:]
            found += [w for w in args if not w.startswith("-")]
            found += [w for w in args if w.startswith("--ignore")]
    return found


def test_with_chromium_course_notebooks_run_only_in_the_browser(tmp_path):
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    lines = planned(chromium)
    assert nbval_targets(lines) == ["notebooks/solutions"]
    assert any(re.search(r"pytest .*-m browser tests/browser", line) for line in lines)
    assert any("ruff check" in line for line in lines)
    assert any('-m "not browser and not real"' in line for line in lines)


def test_without_chromium_every_notebook_runs_under_nbval(tmp_path):
    lines = planned(tmp_path / "no-chromium")
    # every notebook, of the Korean ones only ko/02 (the others run the same code: tests/test_korean.py)
    assert nbval_targets(lines) == ["notebooks", "--ignore-glob=notebooks/ko/0[013-8]_*",
                                    "--ignore=notebooks/ko/solutions"]
    assert not any("-m browser tests/browser" in line for line in lines)


def browser_conftest():
    """tests/browser/conftest.py as a module of its own (tests/conftest.py holds that name here)."""
    spec = importlib.util.spec_from_file_location("browser_conftest", REPO / "tests" / "browser" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_browser_tests_run_every_course_notebook_once_in_course_order():
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "browser", "tests/browser"],
                         cwd=REPO, capture_output=True, text=True, check=True).stdout
    browser = browser_conftest()
    scenarios = {test_file: nb for nb, test_file in browser.WIDGET_SCENARIOS.items()}
    runs = []
    for node in (line for line in out.splitlines() if "::" in line):
        param = re.search(r"\[(.+\.ipynb)\]", node)
        test_file = Path(node.split("::")[0]).name
        if param:
            runs.append(param[1])
        elif test_file in scenarios:
            runs.append(scenarios[test_file])
    assert sorted(runs) == browser.notebook_names()  # each once
    assert runs == sorted(runs)  # 04 and 06 train before 05, 07 and 08 use their models
