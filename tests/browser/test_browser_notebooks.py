"""Scenario 3: every notebook, opened in JupyterLab and run with Run > Run All Cells, shows no error.

Notebooks with a widget scenario (conftest.WIDGET_SCENARIOS) are run and checked there, once.
"""
import pytest

pytestmark = pytest.mark.browser


def test_every_notebook_is_covered(course_notebooks, widget_scenarios):
    """The course has notebooks, and the ones left to widget scenarios exist (none slips through)."""
    assert course_notebooks, "no notebooks/NN_*.ipynb found"
    missing = sorted(set(widget_scenarios) - set(course_notebooks))
    assert not missing, f"widget scenarios name notebooks that do not exist: {missing}"


def test_notebook_runs_without_errors(lab, notebook):
    """Run all cells in the quick profile; no cell shows an error and every cell ran."""
    lab.open(notebook).run_all()
    errors = lab.errors()
    assert not errors, f"{notebook} shows errors:\n\n" + "\n\n".join(errors)
    assert not lab.unexecuted(), f"{notebook}: code cells {lab.unexecuted()} did not run"
    lab.show_top()  # the screenshot taken at the end shows the set-up cell and its banner
