"""Draw notebook 01's reference figure from benchmarks/runs.json: each recorded seed's test accuracy, convnet and
dense network, next to the book's figures.

    python benchmarks/reference_figures_01.py            # writes assets/01_reference_digits.png
"""
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from helpers import book, references  # noqa: E402

OUT = REPO / "assets" / "01_reference_digits.png"
COLOURS = {"convnet": "tab:blue", "dense": "tab:orange"}
NAMES = {"convnet": "convnet (listings 5.1-5.3)", "dense": "dense network (chapter 2)"}


def draw(source="drawn", out=OUT):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = references.digit_runs(source)
    fig, ax = plt.subplots(figsize=(7.5, 3.6), dpi=100)
    for row, model in enumerate(("dense", "convnet")):
        accuracies = sorted((r["test"]["accuracy"], r["seed"]) for r in runs[model])
        ax.scatter([100 * a for a, _ in accuracies], [row] * len(accuracies), s=60, color=COLOURS[model],
                   zorder=3, label=f"{NAMES[model]}: {len(accuracies)} seeds on {references.DIGIT_SOURCES[source]}")
        for rank, (a, seed) in enumerate(accuracies):  # labels above and below in turn, so close seeds stay legible
            ax.annotate(f"{seed}", (100 * a, row), textcoords="offset points", xytext=(0, 8 if rank % 2 else -14),
                        ha="center", fontsize=7, color=COLOURS[model])
        quoted = 100 * book.MNIST_TEST_ACCURACY[model]
        ax.plot([quoted], [row], marker="D", markersize=8, markerfacecolor="none", color="black", zorder=4,
                linestyle="none", label="the book's text, MNIST (99.3% and 97.8%)" if model == "convnet" else None)
    ax.set_yticks([0, 1], [NAMES["dense"], NAMES["convnet"]])
    ax.set_ylim(-0.6, 1.7)
    ax.set_xlabel("test accuracy (%), 10,000 test images: one image is 0.01 points")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    ax.set_title("Notebook 01, full profile (5 epochs): test accuracy by seed (the numbers by the dots)", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, metadata={"Software": None})
    plt.close(fig)
    return out


if __name__ == "__main__":
    print(draw())
