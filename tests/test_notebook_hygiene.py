"""Notebook house rules: outputs only in nbval-checked cells, null execution counts, no machine paths or noise."""
import re
from pathlib import Path

import colab_cells
import nbformat
import pytest
from nbval_checked import output_problems

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
MARKER = "# NBVAL_CHECK_OUTPUT"
ABSOLUTE_PATH = re.compile(r"(/(root|work|tmp|home|Users|usr|opt|var)/|[A-Za-z]:\\\\)")


def readable_text(nb):
    """Every source and every text output of a notebook (not base64 images, where paths cannot hide)."""
    parts = [cell.source for cell in nb.cells]
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(str(out.get("text", "")))
            parts += [str(v) for k, v in out.get("data", {}).items() if not k.startswith("image/")]
    return "\n".join(parts)


def test_path_check_reads_outputs():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("stream", text="saved to /home/me/data\n")])])
    assert ABSOLUTE_PATH.search(readable_text(nb))


def test_notebooks_exist_and_are_numbered():
    assert NOTEBOOKS, "no notebooks found"
    for path in NOTEBOOKS:
        assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_hygiene(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    text = readable_text(nb)
    assert not ABSOLUTE_PATH.search(text), f"{path.name}: absolute path {ABSOLUTE_PATH.search(text).group(0)!r}"
    code = [c for c in nb.cells if c.cell_type == "code"]
    problems = colab_cells.notebook_problems(nb, path.name, badge=False, setup=colab_cells.setup_cell(path))
    assert not problems, (f"{path.name}: {'; '.join(problems)}: the set-up is the Colab cell, then "
                          "`import helpers` / `helpers.setup_notebook()` (run `python tools/colab_cells.py "
                          "notebooks/NN_x.ipynb`)")
    for i, cell in enumerate(code):
        lines = cell.source.splitlines()
        assert cell.get("execution_count") is None, f"code cell {i}: execution_count set"
        checked = MARKER in lines
        if any(l.strip().startswith("# NBVAL") and l != MARKER and "SKIP" not in l for l in lines):
            pytest.fail(f"code cell {i}: a marker line must be exactly {MARKER!r}")
        if cell.outputs:
            assert checked, f"code cell {i}: stored output in a cell nbval does not check"
            for out in cell.outputs:
                assert out.get("execution_count") is None, f"code cell {i}: output execution_count set"
                assert out.output_type != "error", f"code cell {i}: stored error output"
            problems = output_problems(cell.outputs)
            assert not problems, f"code cell {i}: stored output shows {'; '.join(problems)}"
        elif checked:
            pytest.fail(f"code cell {i}: checked cell without a stored output to compare")
