"""Draw the reference-run figures the notebooks show from benchmarks/runs.json into assets/.

    python benchmarks/reference_figures.py            # assets/04_reference_real.png, ..._synthetic.png, 06_...
    python benchmarks/reference_figures.py --lang ko  # the Korean edition's: assets/ko/ (the same figures)

Curves only: no picture of the data goes into these figures.
"""
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from helpers import book, i18n, plots, references  # noqa: E402
from helpers.files import replacing  # noqa: E402

TITLES = {"04": "notebook 04, the baseline", "06": "notebook 06, dropout + augmentation"}
FAMILIES = {"real": "kaggle", "synthetic": "synthetic"}
# The Korean edition's titles (the curves' labels come from helpers.plots in the learner's language).
TITLES_KO = {"04": "노트북 04, 기준 모델", "06": "노트북 06, 드롭아웃 + 데이터 증식"}
SOURCES_KO = {"kaggle": "실제 사진", "synthetic": "합성 데이터셋"}


def title_of(notebook, family, runs, lang="en"):
    """The figure's title: the notebook, how many full-profile runs on which data, the machines."""
    if lang == "ko":
        return (f"{TITLES_KO[notebook]}: {SOURCES_KO[FAMILIES[family]]}에서 full 프로필 실행 {len(runs)}회 "
                f"({references.machines(runs)})")
    return (f"{TITLES[notebook]}: {len(runs)} full-profile run{'s' if len(runs) > 1 else ''} on "
            f"{references.source_name(FAMILIES[family])} ({references.machines(runs)})")


def draw(notebook, family, folder, lang="en"):
    """One figure: the reference runs of a notebook on one kind of data; returns its path, or None without runs."""
    runs = references.reference_runs(notebook, FAMILIES[family])
    if not runs:
        return None
    plots.set_style()
    title = title_of(notebook, family, runs, lang)
    fig = plots.plot_reference_runs(runs, title, book=book.FINAL_VAL_ACCURACY[notebook])
    path = Path(folder) / f"{notebook}_reference_{family}.png"
    with replacing(path) as tmp:
        fig.savefig(tmp, dpi=80)
    return path


def main(argv):
    lang = "ko" if argv[-2:] == ["--lang", "ko"] else "en"
    folder = REPO / "assets" / ("ko" if lang == "ko" else "")
    with i18n.speaking(lang):
        for notebook in TITLES:
            for family in FAMILIES:
                path = draw(notebook, family, folder, lang)
                print(path.relative_to(REPO) if path else f"{notebook} {family}: no recorded run")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
