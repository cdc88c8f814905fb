"""Draw the reference-run figures the notebooks show from benchmarks/runs.json into assets/.

    python benchmarks/reference_figures.py      # assets/04_reference_real.png, ..._synthetic.png, 06_...

Curves only: no picture of the data goes into these figures.
"""
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from helpers import book, plots, references  # noqa: E402
from helpers.files import replacing  # noqa: E402

TITLES = {"04": "notebook 04, the baseline", "06": "notebook 06, dropout + augmentation"}
FAMILIES = {"real": "kaggle", "synthetic": "synthetic"}


def draw(notebook, family, folder):
    """One figure: the reference runs of a notebook on one kind of data; returns its path, or None without runs."""
    runs = references.reference_runs(notebook, FAMILIES[family])
    if not runs:
        return None
    plots.set_style()
    title = (f"{TITLES[notebook]}: {len(runs)} full-profile run{'s' if len(runs) > 1 else ''} on "
             f"{references.source_name(FAMILIES[family])} ({references.machines(runs)})")
    fig = plots.plot_reference_runs(runs, title, book=book.FINAL_VAL_ACCURACY[notebook])
    path = Path(folder) / f"{notebook}_reference_{family}.png"
    with replacing(path) as tmp:
        fig.savefig(tmp, dpi=80)
    return path


def main():
    for notebook in TITLES:
        for family in FAMILIES:
            path = draw(notebook, family, REPO / "assets")
            print(path.relative_to(REPO) if path else f"{notebook} {family}: no recorded run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
