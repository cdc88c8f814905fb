"""Maintainers' tool: refresh the stored outputs of checked cells and strip everything else.

    python tools/nbtools.py refresh notebooks/01_convolution.ipynb   # executes (quick profile)
    python tools/nbtools.py strip notebooks/*.ipynb                  # no execution
"""
import os
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this repository's helpers, also as a script
from helpers.files import replacing

MARKER = "# NBVAL_CHECK_OUTPUT"


def write(nb, path):
    """Write a notebook through a temporary file and a rename, so a crash never leaves half a file."""
    with replacing(path) as tmp:
        nbformat.write(nb, tmp)


def strip(nb):
    """Keep outputs only in checked cells; null every execution count."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.execution_count = None
        if MARKER not in cell.source.splitlines():
            cell.outputs = []
        for out in cell.outputs:
            if "execution_count" in out:
                out.execution_count = None
            out.pop("metadata", None) if out.output_type == "stream" else None
        cell.metadata.pop("execution", None)
    nb.metadata.kernelspec = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata.pop("widgets", None)  # saved widget state (PNG bytes of every explorer) is output too
    return nb


def refresh(path):
    """Execute a notebook with the quick profile in a scratch data dir and keep checked outputs."""
    from nbconvert.preprocessors import ExecutePreprocessor

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    os.environ["COURSE_PROFILE"] = "quick"  # stored outputs always come from the profile nbval runs
    if "COURSE_DATA_DIR" not in os.environ:
        os.environ["COURSE_DATA_DIR"] = str(Path("build/test-data").resolve())
    if "COURSE_MODELS_DIR" not in os.environ:
        os.environ["COURSE_MODELS_DIR"] = str(Path("build/test-models").resolve())
    ExecutePreprocessor(timeout=1800, kernel_name="python3").preprocess(nb, {"metadata": {"path": str(path.parent)}})
    write(strip(nb), path)


def main(argv):
    cmd, *paths = argv
    for p in paths:
        if cmd == "refresh":
            refresh(p)
        elif cmd == "strip":
            write(strip(nbformat.read(p, as_version=4)), p)
        else:
            raise SystemExit(__doc__)
        print("ok", p)


if __name__ == "__main__":
    main(sys.argv[1:])
