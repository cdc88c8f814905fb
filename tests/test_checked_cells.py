"""The browser tests' check of stored outputs: nbval's own comparison, applied to a notebook run in JupyterLab."""
from pathlib import Path

import nbformat
from nbval_checked import MARKER, checked_cell_differences

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def cell(source, *outputs):
    return {"source": source, "outputs": list(outputs)}


def stream(text, name="stdout"):
    return {"output_type": "stream", "name": name, "text": text}


def result(text, **more):
    return {"output_type": "execute_result", "execution_count": 3, "metadata": {},
            "data": {"text/plain": text, **more}}


CHECKED = f"{MARKER}\nprint(x.shape)"


def test_equal_outputs_agree_and_unchecked_cells_are_not_compared():
    stored = [cell("import x"), cell(CHECKED, stream("(2, 3)\n")), cell("print(1)", stream("1\n"))]
    ran = [cell("import x", stream("noise\n")), cell(CHECKED, stream("(2, 3)\n")), cell("print(1)", stream("2\n"))]
    assert checked_cell_differences(ran, stored) == []


def test_a_changed_checked_output_is_reported_with_its_cell_number():
    stored = [cell("import x"), cell(CHECKED, stream("(2, 3)\n"))]
    found = checked_cell_differences([cell("import x"), cell(CHECKED, stream("(2, 4)\n"))], stored)
    assert [number for number, _ in found] == [2]
    assert "(2, 3)" in found[0][1] and "(2, 4)" in found[0][1]


def test_like_nbval_streams_are_joined_and_pictures_and_counts_ignored():
    stored = [cell(CHECKED, stream("a\nb\n"), result("3", **{"image/png": "AAAA"}))]
    ran = [cell(CHECKED, stream(["a\n"]), stream("b\n"), result("3", **{"image/png": "BBBB"}))]
    assert checked_cell_differences(ran, stored) == []
    assert checked_cell_differences([cell(CHECKED, stream("a\nb\n"), result("4"))], stored)
    assert checked_cell_differences([cell(CHECKED, stream("a\nb\n"))], stored)  # a missing result


def test_a_different_cell_count_is_a_difference():
    assert checked_cell_differences([cell("a")], [cell("a"), cell("b")])[0][0] == 0


def test_every_course_notebook_agrees_with_itself():
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        assert any(MARKER in c.source for c in cells), path.name
        assert checked_cell_differences(cells, cells) == [], path.name
