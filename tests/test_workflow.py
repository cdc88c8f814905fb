"""Windows and macOS without make: README.md's commands, environment.yml and the code host's workflow agree.

The workflow (.github/workflows/tests.yml) runs the README's "Without make" commands, as a learner types them, on
Linux, Windows and macOS; here its YAML is parsed, and every command is checked against the README and the
Makefile's own targets, so that the three cannot drift apart.
"""
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = REPO / ".github" / "workflows" / "tests.yml"
SECTION = "### Without make: Windows, macOS, conda"
INTERACTIVE = {"jupyter lab notebooks"}  # opens a browser: a learner's command, not the workflow's
TEST_SETTINGS = {"COURSE_PROFILE": "quick", "COURSE_DATA_DIR": "build/test-data",
                 "COURSE_MODELS_DIR": "build/test-models"}


def readme_commands():
    """The command lines of the README's code blocks in its "Without make" section, in order."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert SECTION in text, f"README.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split("\n#", 1)[0]
    blocks = re.findall(r"^```\n(.*?)^```", section, flags=re.S | re.M)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def workflow():
    """The workflow, parsed by PyYAML's safe loader."""
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def run_lines():
    """Every line of every `run:` step of every job, in order."""
    return [line.strip() for job in workflow()["jobs"].values() for step in job["steps"] if "run" in step
            for line in step["run"].splitlines() if line.strip()]


def test_workflow_is_valid_yaml_for_the_three_systems():
    flow = workflow()
    triggers = flow.get("on", flow.get(True))  # YAML 1.1 reads the bare key `on` as true
    assert {"push", "pull_request"} <= set(triggers)
    (job,) = flow["jobs"].values()
    assert set(job["strategy"]["matrix"]["os"]) == {"ubuntu-latest", "windows-latest", "macos-latest"}
    assert job["runs-on"] == "${{ matrix.os }}" and job["strategy"]["fail-fast"] is False
    assert all("uses" in step or "run" in step for step in job["steps"])
    assert job["steps"][0]["uses"].startswith("actions/checkout@")


def test_workflow_runs_the_readmes_commands_without_make():
    commands, lines = readme_commands(), run_lines()
    assert commands[:2] == ["conda env create -f environment.yml", "conda activate dlwp-ch5"]
    assert set(INTERACTIVE) <= set(commands)
    missing = [c for c in commands if c not in lines and c not in INTERACTIVE]
    assert not missing, f"the README's commands that the workflow does not run: {missing}"
    assert not [line for line in lines if re.match(r"(g?make|mingw32-make)\b", line)]
    assert lines[0] == "conda env create -f environment.yml"
    # every step after the install works in the course's environment
    steps = [step["run"].splitlines()[0] for step in workflow()["jobs"]["tests"]["steps"] if "run" in step]
    assert all(first == "conda activate dlwp-ch5" for first in steps[1:])


def test_readmes_commands_are_the_makefiles_targets():
    """Each `python ...` command is the Makefile's `$(PY) ...` of a target (make data, test-unit, test-notebooks)."""
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    for command in readme_commands():
        if command.startswith("python "):
            assert "$(PY)" + command[len("python"):] in makefile, command


def test_workflow_and_readme_use_the_tests_settings():
    env = workflow()["jobs"]["tests"]["env"]
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    test_env = re.search(r"^TEST_ENV := (.*)$", makefile, flags=re.M).group(1)
    section = (REPO / "README.md").read_text(encoding="utf-8").split(SECTION, 1)[1].split("\n#", 1)[0]
    for name, value in TEST_SETTINGS.items():
        assert env[name] == value
        assert f"`{name}={value}`" in section
        assert re.search(rf"\b{name}=(\$\(CURDIR\)/)?{re.escape(value)}\b", test_env), name


def test_environment_yml_installs_the_pins_on_every_system():
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    assert f"conda activate {env['name']}" in readme_commands()
    assert "conda-forge" in env["channels"]
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    lock_header = (REPO / "requirements-dev.lock").read_text(encoding="utf-8").split("\n", 3)[:3]
    made_for = re.search(r"--python-version (\d+\.\d+)", "\n".join(lock_header)).group(1)
    assert python == f"python={made_for}"
    (pip,) = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    # the exact top-level pins, every package the Linux lock names held to its version, the helpers package;
    # the lock itself is never installed as requirements (it lacks pywinpty, colorama, appnope)
    assert pip == ["-r requirements-dev.txt", "-c requirements-dev.lock", "-e ."]
    for name in ("requirements-dev.txt", "requirements-dev.lock"):
        assert (REPO / name).is_file()

