"""Training-curve and image-grid plots: smoothing against a hand computation, lines against data."""
import re
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers import plots

HANGUL = re.compile("[가-힣]")

HISTORY = {"accuracy": [0.5, 0.6, 0.7, 0.9], "val_accuracy": [0.5, 0.55, 0.6, 0.58],
           "loss": [0.7, 0.6, 0.5, 0.3], "val_loss": [0.7, 0.68, 0.66, 0.7]}


def test_smooth_curve_by_hand():
    # s0 = x0; s1 = 0.8*1 + 0.2*2 = 1.2; s2 = 0.8*1.2 + 0.2*3 = 1.56
    assert plots.smooth_curve([1, 2, 3]) == pytest.approx([1, 1.2, 1.56])
    assert plots.smooth_curve([4, 0], factor=0.5) == pytest.approx([4, 2])
    assert plots.smooth_curve([]) == []


def test_plot_history_draws_raw_data():
    fig = plots.plot_history(HISTORY)
    acc, loss = fig.axes
    ys = [list(line.get_ydata()) for line in acc.lines]
    assert HISTORY["accuracy"] in ys and HISTORY["val_accuracy"] in ys
    assert list(acc.lines[0].get_xdata()) == [1, 2, 3, 4]
    assert HISTORY["val_loss"] in [list(line.get_ydata()) for line in loss.lines]
    plt.close(fig)


def test_plot_history_smoothed_includes_smoothed_curves():
    long = {k: v * 3 for k, v in HISTORY.items()}  # 12 epochs: enough to smooth
    fig = plots.plot_history(long, smooth=True)
    ys = [list(line.get_ydata()) for line in fig.axes[0].lines]
    assert plots.smooth_curve(long["val_accuracy"]) in ys
    assert long["val_accuracy"] in ys  # raw points stay visible, faded
    plt.close(fig)


def test_plot_histories_overlays_two_runs_of_different_lengths():
    longer = {k: v + v for k, v in HISTORY.items()}
    fig = plots.plot_histories(HISTORY, longer, smooth=False)
    acc = fig.axes[0]
    labels = [line.get_label() for line in acc.lines]
    assert "baseline validation" in labels and "dropout + augmentation validation" in labels
    assert max(len(line.get_xdata()) for line in acc.lines) == 8
    plt.close(fig)


def test_image_grid_titles_with_labels_and_probabilities(tmp_path):
    from PIL import Image

    path = tmp_path / "cat.0.jpg"
    Image.new("RGB", (30, 20), (200, 10, 10)).save(path)
    images = [np.zeros((10, 10, 3), np.uint8), np.ones((10, 10, 3), np.float32), path]
    fig = plots.show_image_grid(images, labels=["cats", "dogs", "cats"],
                                probabilities=[0.1, 0.876, 0.5], ncols=2)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:3] == ["cats  P(dog)=0.10", "dogs  P(dog)=0.88", "cats  P(dog)=0.50"]
    assert len(fig.axes) == 4 and not fig.axes[3].images
    assert fig.axes[2].images[0].get_array().shape == (20, 30, 3)
    plt.close(fig)


def test_accuracy_axis_starts_at_chance_or_lower_and_epochs_are_whole_numbers():
    at_chance = {"accuracy": [0.49, 0.5], "val_accuracy": [0.495, 0.5], "loss": [0.7, 0.69], "val_loss": [0.7, 0.7]}
    fig = plots.plot_history(at_chance)
    acc = fig.axes[0]
    assert acc.get_ylim()[0] <= 0.49 and acc.get_ylim()[1] == 1.0  # noise at 0.49-0.50 stays flat
    assert all(float(t).is_integer() for t in acc.get_xticks())
    assert not acc.get_legend() and fig.legends  # one legend, outside the curves
    plt.close(fig)


def test_smoothing_needs_enough_epochs():
    fig = plots.plot_history(HISTORY, smooth=True, title="t")
    assert len(fig.axes[0].lines) == 2  # 4 epochs: raw curves only, no smoothed copies
    assert "too few to smooth" in fig._suptitle.get_text()
    plt.close(fig)
    long = {k: list(np.linspace(v[0], v[-1], plots.MIN_SMOOTH_EPOCHS)) for k, v in HISTORY.items()}
    fig = plots.plot_history(long, smooth=True)
    assert len(fig.axes[0].lines) == 4  # raw and smoothed, training and validation
    plt.close(fig)


def test_korean_figure_title_axes_and_legend_and_the_same_english_ones_otherwise(monkeypatch):
    monkeypatch.setenv("COURSE_LANG", "en")
    fig = plots.plot_history(HISTORY, smooth=True, title="baseline")
    assert [ax.get_title() for ax in fig.axes] == ["training and validation accuracy", "training and validation loss"]
    assert [(ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes] == [("epoch", "accuracy"), ("epoch", "loss")]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["training", "validation"]
    assert fig._suptitle.get_text() == "baseline (4 epochs: too few to smooth, drawn raw)"
    plt.close(fig)
    monkeypatch.setenv("COURSE_LANG", "ko")
    with matplotlib.rc_context():
        plots.set_style()  # as the Korean notebooks' set-up cell does: a font with Hangul
        fig = plots.plot_history(HISTORY, smooth=True, title="baseline")
    texts = [ax.get_title() for ax in fig.axes] + [fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()]
    texts += [t.get_text() for t in fig.legends[0].get_texts()] + [fig._suptitle.get_text()]
    assert all(HANGUL.search(text) for text in texts), texts
    assert fig._suptitle.get_text().startswith("baseline (")  # a title the notebook gives stays as it is given
    plt.close(fig)


def test_korean_figures_miss_no_glyph(monkeypatch):
    """Under COURSE_LANG=ko the course style draws Hangul with NanumGothic and the rest (⌊, −, ×) with DejaVu Sans:
    drawing raises no 'Glyph missing' warning (warnings are errors here); English keeps matplotlib's font."""
    with matplotlib.rc_context():
        monkeypatch.setenv("COURSE_LANG", "en")
        family = list(plt.rcParams["font.family"])
        plots.set_style()
        assert list(plt.rcParams["font.family"]) == family
    monkeypatch.setenv("COURSE_LANG", "ko")
    long = {k: v * 3 for k, v in HISTORY.items()}
    with matplotlib.rc_context(), warnings.catch_warnings():
        warnings.simplefilter("error")
        plots.set_style()
        assert plt.rcParams["font.family"][0] == "NanumGothic"
        figures = [plots.plot_history(long, smooth=True, title="⌊(150 − 3) / 1⌋ + 1 = 148 × 32 → 훈련"),
                   plots.plot_histories(HISTORY, long, smooth=False),
                   plots.plot_confusion_matrix(np.array([[40, 10], [12, 38]])),
                   plots.plot_image_sizes([(500, 374), (320, 480), (150, 150)]),
                   *plots.plot_activation_grids({"conv2d": np.random.default_rng(0).random((12, 12, 8))},
                                                max_channels=4)]
        for fig in figures:
            fig.canvas.draw()
            assert HANGUL.search(fig.axes[0].get_title()), fig.axes[0].get_title()
            plt.close(fig)
