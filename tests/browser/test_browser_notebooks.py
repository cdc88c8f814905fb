"""Scenario 3: every notebook, opened in JupyterLab and run with Run > Run All Cells, shows no error, and its
checked cells show what the stored notebook holds (the check nbval makes; `make test` runs them only here).

Notebooks with a widget scenario (conftest.WIDGET_SCENARIOS) are run and checked there, once.
"""
import re

import pytest

pytestmark = pytest.mark.browser


def test_every_notebook_is_covered(course_notebooks, widget_scenarios):
    """The course has notebooks, and the ones left to widget scenarios exist (none slips through)."""
    assert course_notebooks, "no notebooks/NN_*.ipynb found"
    missing = sorted(set(widget_scenarios) - set(course_notebooks))
    assert not missing, f"widget scenarios name notebooks that do not exist: {missing}"


def test_notebook_runs_without_errors(lab, notebook):
    """Run all cells in the quick profile; every cell ran, none shows an error, checked cells as stored."""
    lab.open(notebook).run_all().check_run()
    lab.show_top()  # the screenshot taken at the end shows the set-up cell and its banner


KOREAN = "ko/02_pooling.ipynb"  # the Korean edition's notebooks run the English code: one stands for them all


def test_korean_notebook_runs_in_korean(lab):
    """A Korean notebook runs like its English one, its prose, banner and exercise texts in Korean (Hangul shown)."""
    lab.open(KOREAN).run_all().check_run()
    text = lab.page.inner_text(".jp-NotebookPanel")
    assert "최대 풀링" in text and "연습문제" in text, text[:500]
    setup = next(c for c in lab.cell_outputs() if "setup_notebook(" in c["source"])
    banner = "".join(str(out.get("text", "")) for out in setup["outputs"])
    assert re.search("[가-힣]", banner), f"the banner is not in Korean: {banner!r}"
    glyphs = [c["source"][:60] for c in lab.cell_outputs() for out in c["outputs"] if "Glyph" in str(out)]
    assert not glyphs, f"matplotlib misses glyphs (no Hangul font?) in the cells starting {glyphs}"
    lab.show_top()  # the screenshot shows the Korean heading and banner
