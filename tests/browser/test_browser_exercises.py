"""Scenario 4: a learner answers an exercise at the end of 02_pooling.ipynb in JupyterLab: runs the whole notebook
(checked as every notebook is), types a wrong answer into the exercise's cell and reads what it reveals, then the
right one."""
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NOTEBOOK = "02_pooling.ipynb"
EXERCISE = "02.4"


def cell_index(lab, text):
    """Index (among all cells) of the first code cell whose source contains text."""
    index = lab.page.evaluate(
        """(text) => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells
                     .findIndex(c => c.cell_type === 'code' && c.source.includes(text))""", text)
    assert index >= 0, f"{NOTEBOOK} has no code cell containing {text!r}"
    return index


def select_cell(lab, index):
    """Make cell `index` the active one, scrolled into view (what clicking on it does); its DOM node."""
    lab.page.evaluate(
        """async (i) => { const nb = window.jupyterapp.shell.currentWidget.content;
                          nb.mode = 'command'; nb.activeCellIndex = i; await nb.scrollToItem(i); }""", index)
    cell = lab.page.locator(".jp-NotebookPanel .jp-Cell.jp-mod-active")
    expect(cell).to_have_count(1)
    return cell


def run_cell(lab, index):
    """Select a cell, click its prompt and press Shift+Enter, then wait until the kernel is idle."""
    cell = select_cell(lab, index)
    cell.locator(".jp-InputPrompt").first.click()
    lab.page.keyboard.press("Shift+Enter")
    lab.wait_idle(120)


def type_into_cell(lab, index, source):
    """Click into a cell's editor, select everything and type the new source, as a learner would."""
    cell = select_cell(lab, index)
    cell.locator(".cm-content").first.click()
    lab.page.keyboard.press("Control+a")
    lab.page.keyboard.insert_text(source)
    expect(cell.locator(".cm-content").first).to_contain_text(source.splitlines()[0])


def output_text(lab, index):
    """The text the cell's outputs hold, as the notebook model has them."""
    return lab.page.evaluate(
        """(i) => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells[i].toJSON().outputs
                  .map(o => o.text || (o.data && o.data['text/plain']) || o.evalue || '').join('')""", index)


def feedback_shown(lab, text):
    """Wait until an output on the page shows text (what the learner reads)."""
    expect(lab.page.locator(".jp-OutputArea-output", has_text=text).first).to_be_visible(timeout=30_000)


def test_learner_answers_an_exercise(lab):
    """Placeholder: 'Not answered yet'; a wrong shape: what it reveals; the right shape: 'Correct'."""
    lab.open(NOTEBOOK).run_all().check_run()
    first = cell_index(lab, 'exercises.show("02")')
    assert f"{EXERCISE}  " in output_text(lab, first), output_text(lab, first)

    answer_cell = cell_index(lab, f'exercises.check("{EXERCISE}", answer)')
    feedback_shown(lab, f"[{EXERCISE}] Not answered yet")  # as the notebook holds it: answer = ...

    type_into_cell(lab, answer_cell, f'answer = (7, 7, 128)\nexercises.check("{EXERCISE}", answer)')
    run_cell(lab, answer_cell)
    feedback_shown(lab, f"[{EXERCISE}] Not yet")
    wrong = output_text(lab, answer_cell)
    assert "'valid' pooling" in wrong and f'exercises.hint("{EXERCISE}")' in wrong, wrong

    type_into_cell(lab, answer_cell, f'answer = (8, 8, 128)\nexercises.check("{EXERCISE}", answer)')
    run_cell(lab, answer_cell)
    feedback_shown(lab, f"[{EXERCISE}] Correct")
    assert output_text(lab, answer_cell).startswith(f"[{EXERCISE}] Correct: (8, 8, 128)"), output_text(lab, answer_cell)
    assert not lab.errors(), "\n\n".join(lab.errors())
