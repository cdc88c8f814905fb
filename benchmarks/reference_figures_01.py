"""Draw notebook 01's reference figure from benchmarks/runs.json: each recorded seed's test accuracy, convnet and
dense network, next to the book's figures.

    python benchmarks/reference_figures_01.py            # writes assets/01_reference_digits.png
    python benchmarks/reference_figures_01.py --lang ko  # the Korean edition's: assets/ko/01_reference_digits.png
"""
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from helpers import book, plots, references  # noqa: E402

OUT = REPO / "assets" / "01_reference_digits.png"
COLOURS = {"convnet": "tab:blue", "dense": "tab:orange"}
TEXT = {  # the figure's words in each edition's language
    "en": {"convnet": "convnet (listings 5.1-5.3)", "dense": "dense network (chapter 2)",
           "seeds": "{model}: {n} seeds on {data}", "book": "the book's text, MNIST (99.3% and 97.8%)",
           "x": "test accuracy (%), 10,000 test images: one image is 0.01 points",
           "title": "Notebook 01, full profile (5 epochs): test accuracy by seed (the numbers by the dots)"},
    "ko": {"convnet": "컨브넷 (리스팅 5.1-5.3)", "dense": "완전 연결 네트워크 (2장)",
           "seeds": "{model}: {data}에서 시드 {n}개", "book": "책의 본문, MNIST (99.3%와 97.8%)",
           "x": "테스트 정확도 (%), 테스트 이미지 10,000개: 이미지 하나가 0.01%포인트",
           "title": "노트북 01, full 프로필 (5 에포크): 시드별 테스트 정확도 (점 옆의 숫자가 시드)"},
}
DATA_KO = {"drawn": "그린 숫자", "mnist": "MNIST"}


def draw(source="drawn", out=OUT, lang="en"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    words = TEXT[lang]
    names = {"convnet": words["convnet"], "dense": words["dense"]}
    data = DATA_KO.get(source, source) if lang == "ko" else references.DIGIT_SOURCES[source]
    if lang == "ko":
        plots.korean_fonts()  # Hangul: the NanumGothic font
    runs = references.digit_runs(source)
    fig, ax = plt.subplots(figsize=(7.5, 3.6), dpi=100)
    for row, model in enumerate(("dense", "convnet")):
        accuracies = sorted((r["test"]["accuracy"], r["seed"]) for r in runs[model])
        ax.scatter([100 * a for a, _ in accuracies], [row] * len(accuracies), s=60, color=COLOURS[model],
                   zorder=3, label=words["seeds"].format(model=names[model], n=len(accuracies), data=data))
        for rank, (a, seed) in enumerate(accuracies):  # labels above and below in turn, so close seeds stay legible
            ax.annotate(f"{seed}", (100 * a, row), textcoords="offset points", xytext=(0, 8 if rank % 2 else -14),
                        ha="center", fontsize=7, color=COLOURS[model])
        quoted = 100 * book.MNIST_TEST_ACCURACY[model]
        ax.plot([quoted], [row], marker="D", markersize=8, markerfacecolor="none", color="black", zorder=4,
                linestyle="none", label=words["book"] if model == "convnet" else None)
    ax.set_yticks([0, 1], [names["dense"], names["convnet"]])
    ax.set_ylim(-0.6, 1.7)
    ax.set_xlabel(words["x"])
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    ax.set_title(words["title"], fontsize=9)
    fig.tight_layout()
    fig.savefig(out, metadata={"Software": None})
    plt.close(fig)
    return out


if __name__ == "__main__":
    if sys.argv[1:] == ["--lang", "ko"]:
        print(draw(out=REPO / "assets" / "ko" / OUT.name, lang="ko"))
    else:
        print(draw())
