"""helpers.exercises: every worked solution passes its checker, odd answers never raise, and the notebooks' exercise
cells and solutions notebooks are generated from the registry (the tables of right and wrong answers are in
tests/test_exercise_answers.py)."""

import exercise_cells
import nbformat
import numpy as np
import pytest
import test_notebook_hygiene

from helpers import exercises, ops
from helpers.exercises import CORRECT, UNANSWERED, UNREADABLE, core

IDS = [ex.id for ex in exercises.catalog()]
NOTEBOOKS = list(exercises.MODULES)


def split_for(ex_id, request):
    """Write the quick split when the exercise counts files on disk (03.4); the others need no data."""
    if ex_id == "03.4":
        request.getfixturevalue("quick_split")


def keras_layers():
    """keras.layers, imported only by the tests that build layers."""
    from keras import layers
    return layers


# ------------------------------------------------------------------- the registry

def test_every_notebook_has_three_or_more_exercises():
    assert [f"{n:02d}" for n in range(1, 9)] == NOTEBOOKS
    for nb in NOTEBOOKS:
        found = exercises.catalog(nb)
        assert 3 <= len(found) <= 8, nb
        assert [ex.id for ex in found] == [f"{nb}.{i}" for i in range(1, len(found) + 1)]


@pytest.mark.parametrize("ex_id", IDS)
def test_exercise_is_complete(ex_id):
    ex = exercises.catalog(ex_id.split(".")[0])[int(ex_id.split(".")[1]) - 1]
    assert ex.prompt.startswith(f"### Exercise {ex.id}: ")
    assert ex.hint and ex.explanation and ex.title and ex.kind
    assert ex.check_call() in exercise_cells.section_cells(ex.notebook)[2 * int(ex_id.split(".")[1]) + 1].source


@pytest.mark.parametrize("ex_id", IDS)
def test_worked_solution_is_correct(ex_id, request, capsys):
    """The solution's code, run after the notebook's imports, passes; check prints 'Correct'."""
    split_for(ex_id, request)
    answer = exercises.example_answer(ex_id)
    capsys.readouterr()  # what the solution itself printed
    result = exercises.feedback(ex_id, answer)
    assert result.status == CORRECT, result.message
    exercises.check(ex_id, answer)
    assert capsys.readouterr().out.startswith(f"[{ex_id}] Correct: ")


@pytest.mark.parametrize("ex_id", IDS)
def test_placeholder_says_not_answered(ex_id, capsys):
    """The learner's cell as the notebook holds it: the check says it is not answered yet, and does not raise."""
    ex = exercises.catalog(ex_id.split(".")[0])[int(ex_id.split(".")[1]) - 1]
    namespace = {}
    exec(f"{exercises.MODULES[ex.notebook].IMPORTS}\n{ex.starter}", namespace)
    assert exercises.feedback(ex_id, namespace[ex.name]).status == UNANSWERED
    exercises.check(ex_id, namespace[ex.name])
    assert capsys.readouterr().out.startswith(f"[{ex_id}] Not answered yet: ")


ODD = ["text", "", None, 3.7, -1, [1, 2], {"a": 1}, np.zeros((2, 2, 2)), (None,), True, object(), float("nan"),
       lambda *args: 1, [[1, 2], [3]]]


@pytest.mark.parametrize("ex_id", IDS)
def test_odd_answers_never_raise(ex_id, request):
    split_for(ex_id, request)
    for answer in ODD:
        result = exercises.feedback(ex_id, answer)
        assert result.status != CORRECT, (answer, result)
        assert result.message.strip(), answer


# ------------------------------------------------------------------- the checkers' truth and messages

def test_checkers_agree_with_independent_truth():
    layers = keras_layers()
    assert exercises.feedback("01.1", layers.Conv2D(16, 5, strides=2, padding="same").compute_output_shape(
        (None, 64, 64, 3))).correct
    assert exercises.feedback("01.2", ops.conv_params(5, 5, 3, 16)).correct
    assert exercises.feedback("02.1", ops.receptive_field([(3, 1), (2, 2)] * 2)).correct
    assert exercises.feedback("04.3", (len(range(0, 2000, 25)), len(range(0, 2000, 32)))).correct
    assert exercises.feedback("07.2", "b").message.count(str(ops.receptive_field([(3, 1), (2, 2)] * 3 + [(3, 1)])))
    rand, block = exercises.dataset.leaked_share()
    assert rand > 0.5 and block == 0


def test_check_hint_solution_show_print_one_clear_answer(capsys):
    exercises.check("01.1", (30, 30, 16))
    out = capsys.readouterr().out
    assert out.startswith("[01.1] Not yet: that is the 'valid' size") and 'exercises.hint("01.1")' in out
    exercises.hint("1.1")
    assert capsys.readouterr().out.startswith("Hint 01.1: With padding='same'")
    exercises.solution("01.1")
    out = capsys.readouterr().out
    assert out.startswith("Solution 01.1 · ") and "answer = (32, 32, 16)" in out
    exercises.show("02")
    out = capsys.readouterr().out
    assert all(f"02.{i}" in out for i in range(1, 5))
    for call in (lambda: exercises.check("01.9", 1), lambda: exercises.hint("x"), lambda: exercises.solution(None)):
        call()
        assert capsys.readouterr().out.startswith("No exercise ")
    exercises.show("42")
    assert "notebooks 01, 02" in capsys.readouterr().out
    assert exercises.material("01.1") is None and "gives no material" in capsys.readouterr().out


def test_material_is_a_fresh_copy():
    history = exercises.material("04.1")
    history["val_loss"].clear()
    assert len(exercises.material("04.1")["val_loss"]) == 15
    patch = exercises.material("02.3")
    patch[:] = 0
    assert exercises.material("02.3").sum() > 0


def test_learner_code_output_is_not_printed(capsys):
    def noisy(image, kernel):
        print("debugging")
        return ops.conv2d(image, kernel, stride=2)[:, :, 0]
    assert exercises.feedback("01.3", noisy).correct
    assert "debugging" not in capsys.readouterr().out


def test_judge_reports_checker_bugs_instead_of_raising():
    def broken(answer):
        raise ZeroDivisionError("boom")
    result = core.judge("00.0", broken, 1)
    assert result.status == UNREADABLE and "ZeroDivisionError" in result.message


# ------------------------------------------------------------------- notebooks

@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_course_notebook_ends_with_its_exercises(nb):
    """The Exercises section is the end of the notebook and matches the registry (tools/exercise_cells.py)."""
    cells = nbformat.read(exercise_cells.notebook_path(nb), as_version=4).cells
    start = exercise_cells.section_start(cells)
    assert start is not None, f"no '{exercise_cells.SECTION}' section: run tools/exercise_cells.py sections"
    want = exercise_cells.section_cells(nb)
    assert [(c.cell_type, c.source) for c in cells[start:]] == [(c.cell_type, c.source) for c in want], (
        "the Exercises section differs from helpers.exercises: run `python tools/exercise_cells.py sections`")
    assert exercises.MODULES[nb].FILE.replace(".ipynb", "_solutions.ipynb") in want[0].source


@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_solutions_notebook_matches_registry_and_checks_every_answer(nb):
    path = exercise_cells.solutions_path(nb)
    assert path.exists(), f"{path.name} is missing: run `python tools/exercise_cells.py solutions {nb}`"
    book = nbformat.read(path, as_version=4)
    want = exercise_cells.solutions_cells(nb)
    assert [(c.cell_type, c.source) for c in book.cells] == [(c.cell_type, c.source) for c in want], (
        "the solutions notebook differs from helpers.exercises: run `python tools/exercise_cells.py solutions`")
    for ex in exercises.catalog(nb):
        cell = next(c for c in book.cells if c.cell_type == "code" and ex.check_call() in c.source)
        assert exercise_cells.MARKER in cell.source.splitlines()
        text = "".join(out.get("text", "") for out in cell.outputs)
        assert f"[{ex.id}] Correct: " in text, f"{path.name}: stored output of {ex.id} is not a correct check"


@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_solutions_notebook_hygiene(nb):
    """The house rules of tests/test_notebook_hygiene.py hold for the solutions notebooks too."""
    test_notebook_hygiene.test_notebook_hygiene(exercise_cells.solutions_path(nb))
