"""Scenario 3: every notebook, opened in JupyterLab and run with Run > Run All Cells, shows no error."""
import pytest

pytestmark = pytest.mark.browser


def test_course_has_notebooks(course_notebooks):
    """The browser scenarios need the course notebooks to be there."""
    assert course_notebooks, "no notebooks/NN_*.ipynb found"


def test_notebook_runs_without_errors(lab, notebook):
    """Run all cells in the quick profile; no cell shows an error and every cell ran."""
    lab.open(notebook).run_all()
    errors = lab.errors()
    assert not errors, f"{notebook} shows errors:\n\n" + "\n\n".join(errors)
    assert not lab.unexecuted(), f"{notebook}: code cells {lab.unexecuted()} did not run"
