"""Plotting: the figures of the data, training runs and a trained convnet that the notebooks draw."""
import warnings

import matplotlib.pyplot as plt

from . import i18n
from .i18n import say
from .images import load_rgb

i18n.messages({
    "plots.epoch": "epoch",
    "plots.accuracy": "accuracy",
    "plots.loss": "loss",
    "plots.training": "training",
    "plots.validation": "validation",
    "plots.history.title": "training and validation {metric}",
    "plots.history.smoothed": "{curve} (smoothed)",
    "plots.history.too_few": " ({epochs} epochs: too few to smooth, drawn raw)",
    "plots.histories.baseline": "baseline",
    "plots.histories.augmented": "dropout + augmentation",
    "plots.reference.mine": "your run",
    "plots.reference.runs_one": "{count} run",
    "plots.reference.runs_many": "{count} runs",
    "plots.reference.training": "reference training ({runs})",
    "plots.reference.validation": "reference validation ({runs})",
    "plots.reference.mine_training": "{label}: training",
    "plots.reference.mine_validation": "{label}: validation",
    "plots.reference.book": "the book's own notebook: last epoch {accuracy:.3f} (real photos)",
    "plots.reference.title": "reference runs: {metric}",
    "plots.activations.title": "{layer}: {height}x{width}, {channels} channels{shown}, {blank} blank for this image",
    "plots.activations.shown": " (first {count} shown)",
    "plots.patterns.channel": "channel {channel}",
    "plots.patterns.title": "Patterns that maximise {layer}'s channels",
    "plots.gradcam.superimposed": "superimposed",
    "plots.confusion.predicted": "predicted {cls}",
    "plots.confusion.true": "true {cls}",
    "plots.confusion.title": "Confusion matrix (test split)",
    "plots.sizes.square": "square",
    "plots.sizes.width": "width (px)",
    "plots.sizes.height": "height (px)",
    "plots.sizes.count": "{count} images",
    "plots.sizes.ratio": "aspect ratio (width / height)",
    "plots.sizes.images": "images",
    "plots.sizes.resized": "every image becomes 150x150",
})

# koreanize_matplotlib's NanumGothic for Hangul; DejaVu Sans (matplotlib's own) for the glyphs NanumGothic lacks.
KOREAN_FONTS = ["NanumGothic", "DejaVu Sans"]
# What koreanize_matplotlib 0.1.1 warns on import (it compares versions with distutils): not a learner's affair.
KOREANIZE_WARNING = "distutils Version classes are deprecated"


def set_style():
    """The course's plot style: readable defaults for notebooks; a font with Hangul when the language is Korean."""
    plt.rcParams.update({
        "figure.figsize": (6, 4),
        "figure.dpi": 100,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "image.cmap": "gray",
    })
    if i18n.current_language() == "ko":
        korean_fonts()


def korean_fonts():
    """Register NanumGothic with matplotlib (koreanize_matplotlib) and draw text with it, other glyphs falling back."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", KOREANIZE_WARNING, DeprecationWarning)
        import koreanize_matplotlib  # noqa: F401  (importing it registers the font)
    plt.rcParams.update({"font.family": KOREAN_FONTS, "axes.unicode_minus": False})


# --- Training curves and prediction grids (sections 5.2.4-5.2.5) ---

def smooth_curve(points, factor=0.8):
    """Exponential moving average, as the book smooths noisy curves: s = f*s_prev + (1-f)*x."""
    smoothed = []
    for point in points:
        smoothed.append(smoothed[-1] * factor + point * (1 - factor) if smoothed else point)
    return smoothed


MIN_SMOOTH_EPOCHS = 10  # fewer epochs than this: a moving average would only lag, so curves are drawn raw


def _epoch_axis(ax):
    """Whole-number epoch ticks."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(say("plots.epoch"))


def _accuracy_axis(ax, values=()):
    """Accuracy from 0.5 (lower if a value is lower) to 1.0, so noise at chance does not look like a climb."""
    low = min([0.5] + [float(v) for v in values])
    ax.set_ylim(max(0.0, low - 0.02), 1.0)


def _legend_below(fig, axes):
    """One legend for the figure, under the plots, out of the curves' way."""
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(4, len(handles)), fontsize="small",
                   bbox_to_anchor=(0.5, 0.0), frameon=False)
        fig.tight_layout(rect=(0, 0.06 + 0.04 * ((len(handles) - 1) // 4), 1, 1))


def _metric_axes(axes, history, label="", color="C0", smooth=False, factor=0.8, raw_alpha=0.25):
    """Draw accuracy and loss (training dots, validation line) of one history on two axes."""
    smooth = smooth and len(history.get("loss", ())) >= MIN_SMOOTH_EPOCHS
    for ax, metric in zip(axes, ("accuracy", "loss")):
        shown = []
        for key, style, name in ((metric, "o", say("plots.training")),
                                 (f"val_{metric}", "-", say("plots.validation"))):
            if key not in history:
                continue
            values = history[key]
            shown += list(values)
            epochs = range(1, len(values) + 1)
            text = f"{label} {name}".strip()
            if smooth:
                ax.plot(epochs, values, style, color=color, alpha=raw_alpha, markersize=3)
                ax.plot(epochs, smooth_curve(values, factor), "--" if style == "o" else "-",
                        color=color, label=say("plots.history.smoothed", curve=text))
            else:
                ax.plot(epochs, values, style, color=color, label=text, markersize=4)
        _epoch_axis(ax)
        if metric == "accuracy":
            _accuracy_axis(ax, shown + [v for line in ax.get_lines() for v in line.get_ydata()])
        ax.set_ylabel(say(f"plots.{metric}"))
        ax.set_title(say("plots.history.title", metric=say(f"plots.{metric}")))
    return smooth


def _too_few_note(history, smooth):
    """' (N epochs: too few to smooth, drawn raw)' when smoothing was asked for but not done."""
    epochs = len(history.get("loss", ()))
    return say("plots.history.too_few", epochs=epochs) if smooth and epochs < MIN_SMOOTH_EPOCHS else ""


def plot_history(history, smooth=False, factor=0.8, title=None):
    """The book's figures 5.9/5.10: training and validation accuracy and loss per epoch."""
    history = getattr(history, "history", history)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    _metric_axes(axes, history, smooth=smooth, factor=factor)
    if title:
        fig.suptitle(title + _too_few_note(history, smooth))
    _legend_below(fig, axes)
    return fig


def plot_histories(first, second, labels=None, smooth=True, factor=0.8, title=None):
    """Two runs' training and validation curves overlaid on the same accuracy and loss axes.

    labels: the two runs' names; by default "baseline" and "dropout + augmentation" in the learner's language.
    """
    labels = labels or (say("plots.histories.baseline"), say("plots.histories.augmented"))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    for history, label, color in ((first, labels[0], "C0"), (second, labels[1], "C1")):
        _metric_axes(axes, getattr(history, "history", history), label, color, smooth, factor)
    if title:
        fig.suptitle(title + _too_few_note(getattr(first, "history", first), smooth))
    _legend_below(fig, axes)
    return fig


def _band(ax, curves, color, label):
    """The mean of several runs' curves as a line, their min-max spread as a band (one run: just its line)."""
    import numpy as np

    length = min(len(c) for c in curves)
    stack = np.array([c[:length] for c in curves])
    epochs = np.arange(1, length + 1)
    ax.plot(epochs, stack.mean(axis=0), color=color, label=label)
    if len(curves) > 1:
        ax.fill_between(epochs, stack.min(axis=0), stack.max(axis=0), color=color, alpha=0.2)


def plot_reference_runs(runs, title, mine=None, mine_label=None, book=None):
    """Reference runs' accuracy and loss (mean line, min-max band over seeds); a learner's history beside or on them.

    runs: records of benchmarks/runs.json (see helpers.references). mine: a history dict; drawn on the
    same axes when it has as many epochs as the references, else in its own pair of panels to the right.
    book: the last epoch's validation accuracy in the book's own notebook (not its text), drawn as a dotted line.
    mine_label: the learner's run's name (default: "your run" in the learner's language).
    """
    import numpy as np

    mine_label = say("plots.reference.mine") if mine_label is None else mine_label
    mine = getattr(mine, "history", mine)
    length = min(len(r["val_accuracy"]) for r in runs)
    beside = mine is not None and len(mine.get("val_accuracy", ())) != length
    fig, axes = plt.subplots(1, 4 if beside else 2, figsize=(16 if beside else 11, 4.6))
    n = say("plots.reference.runs_many" if len(runs) > 1 else "plots.reference.runs_one", count=len(runs))
    mine_training = say("plots.reference.mine_training", label=mine_label)
    mine_validation = say("plots.reference.mine_validation", label=mine_label)
    for ax, metric in zip(axes[:2], ("accuracy", "loss")):
        _band(ax, [r[metric] for r in runs], "C0", say("plots.reference.training", runs=n))
        _band(ax, [r[f"val_{metric}"] for r in runs], "C1", say("plots.reference.validation", runs=n))
        if mine is not None and not beside:
            ax.plot(np.arange(1, len(mine[metric]) + 1), mine[metric], "o", color="C2", markersize=3,
                    label=mine_training)
            ax.plot(np.arange(1, len(mine[f"val_{metric}"]) + 1), mine[f"val_{metric}"], "-", color="C3",
                    label=mine_validation)
        if book is not None and metric == "accuracy":
            ax.axhline(book, ls=":", color="gray", label=say("plots.reference.book", accuracy=book))
        ax.set_title(say("plots.reference.title", metric=say(f"plots.{metric}")))
    if beside:
        for ax, metric in zip(axes[2:], ("accuracy", "loss")):
            ax.plot(range(1, len(mine[metric]) + 1), mine[metric], "o-", color="C2", markersize=4,
                    label=mine_training)
            ax.plot(range(1, len(mine[f"val_{metric}"]) + 1), mine[f"val_{metric}"], "s-", color="C3",
                    markersize=4, label=mine_validation)
            ax.set_title(f"{mine_label}: {say(f'plots.{metric}')}")
    for ax, metric in zip(axes, ("accuracy", "loss") * 2):
        _epoch_axis(ax)
        ax.set_ylabel(say(f"plots.{metric}"))
        if metric == "accuracy":
            _accuracy_axis(ax, [v for line in ax.get_lines() for v in line.get_ydata()])
    if beside:  # the same loss scale on both sides, so a flat run at chance looks flat
        low, high = axes[1].get_ylim()
        mine_losses = list(mine["loss"]) + list(mine["val_loss"])
        axes[3].set_ylim(min(low, min(mine_losses)), max(high, max(mine_losses)))
    fig.suptitle(title)
    handles = [h for ax in axes[:3:2] for h in ax.get_legend_handles_labels()[0]]
    labels = [t for ax in axes[:3:2] for t in ax.get_legend_handles_labels()[1]]
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize="small", frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def show_image_grid(images, labels=None, probabilities=None, ncols=4, size=2.2, title=None):
    """Images (arrays or file paths) in a grid, titled with the label and P(dog) when given."""
    import numpy as np

    images = list(images)
    nrows = max(1, -(-len(images) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(images):
            continue
        image = images[i]
        if not hasattr(image, "shape"):
            image = load_rgb(image)
        image = np.asarray(image)
        if image.dtype != np.uint8:
            image = np.clip(image / (255.0 if image.max() > 1.0 else 1.0), 0, 1)
        ax.imshow(image)
        parts = []
        if labels is not None:
            parts.append(str(labels[i]))
        if probabilities is not None:
            parts.append(f"P(dog)={float(probabilities[i]):.2f}")
        if parts:
            ax.set_title("  ".join(parts), fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_activation_grids(acts, cols=16, scale=0.9, max_channels=None):
    """One labelled channel grid per layer (section 5.4.1); acts is {layer name: (h, w, c)}."""
    from .ops import channel_grid, dead_channels

    figures = []
    for name, act in acts.items():
        shown = act[..., :max_channels] if max_channels else act
        grid = channel_grid(shown, cols=cols)
        width = min(14, max(4, cols * scale))
        fig, ax = plt.subplots(figsize=(width, width * grid.shape[0] / grid.shape[1] + 0.5))
        ax.imshow(grid, cmap="viridis", aspect="equal", interpolation="nearest")
        first = "" if shown is act else say("plots.activations.shown", count=shown.shape[-1])
        ax.set_title(say("plots.activations.title", layer=name, height=act.shape[0], width=act.shape[1],
                         channels=act.shape[-1], shown=first, blank=dead_channels(act)), fontsize="small")
        ax.axis("off")
        ax.grid(False)
        fig.tight_layout()
        figures.append(fig)
    return figures


def plot_pattern_grid(patterns, channels, layer_name, cols=8, size=1.6):
    """Filter patterns (n, h, w, 3) in a grid, each titled with its channel (section 5.4.2)."""
    n = len(patterns)
    cols = min(cols, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows + 0.4), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(patterns[i])
            ax.set_title(say("plots.patterns.channel", channel=channels[i]), fontsize="x-small")
    fig.suptitle(say("plots.patterns.title", layer=layer_name))
    fig.tight_layout()
    return fig


def plot_grad_cams(images, heatmaps, overlays, titles, size=2.6):
    """Rows of image | Grad-CAM heatmap | heatmap over the image (section 5.4.3)."""
    fig, axes = plt.subplots(len(images), 3, figsize=(3 * size, size * len(images) + 0.3), squeeze=False)
    for row, (image, heat, over, title) in enumerate(zip(images, heatmaps, overlays, titles)):
        labels = (title, "Grad-CAM", say("plots.gradcam.superimposed"))
        for ax, picture, label in zip(axes[row], (image, heat, over), labels):
            ax.imshow(picture, cmap="jet" if picture is heat else None, vmin=0, vmax=1 if picture is heat else None)
            ax.set_title(label, fontsize="small")
            ax.axis("off")
    fig.tight_layout()
    return fig


def plot_confusion_matrix(matrix, classes=("cats", "dogs"), title=None):
    """A 2x2 confusion matrix with counts: rows true class, columns predicted class."""
    import numpy as np

    fig, ax = plt.subplots(figsize=(3.6, 3.2))
    ax.imshow(matrix, cmap="Blues")
    ax.grid(False)
    for (r, c), count in np.ndenumerate(matrix):
        ax.text(c, r, str(count), ha="center", va="center",
                color="white" if count > matrix.max() / 2 else "black", fontsize="large")
    ax.set_xticks(range(len(classes)), [say("plots.confusion.predicted", cls=c) for c in classes])
    ax.set_yticks(range(len(classes)), [say("plots.confusion.true", cls=c) for c in classes])
    ax.set_title(title or say("plots.confusion.title"), fontsize="small")
    fig.tight_layout()
    return fig


def plot_image_sizes(sizes, title=None):
    """Width against height of every image, and the spread of aspect ratios (section 5.2.2 data)."""
    import numpy as np

    sizes = np.asarray(sizes, dtype=float).reshape(-1, 2)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.scatter(sizes[:, 0], sizes[:, 1], s=8, alpha=0.5)
    ax1.plot([0, sizes.max()], [0, sizes.max()], color="gray", lw=0.8, ls="--", label=say("plots.sizes.square"))
    ax1.set(xlabel=say("plots.sizes.width"), ylabel=say("plots.sizes.height"),
            title=say("plots.sizes.count", count=len(sizes)))
    ax1.set_aspect("equal")
    ax1.legend(loc="lower right")
    ax2.hist(sizes[:, 0] / sizes[:, 1], bins=30)
    ax2.axvline(1.0, color="gray", lw=0.8, ls="--")
    ax2.set(xlabel=say("plots.sizes.ratio"), ylabel=say("plots.sizes.images"), title=say("plots.sizes.resized"))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
