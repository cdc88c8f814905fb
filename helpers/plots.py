"""Plotting: one place for every figure the notebooks draw."""
import matplotlib.pyplot as plt

from .images import load_rgb


def set_style():
    """The course's plot style: readable defaults for notebooks."""
    plt.rcParams.update({
        "figure.figsize": (6, 4),
        "figure.dpi": 100,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "image.cmap": "gray",
    })


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
    ax.set_xlabel("epoch")


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
        for key, style, name in ((metric, "o", "training"), (f"val_{metric}", "-", "validation")):
            if key not in history:
                continue
            values = history[key]
            shown += list(values)
            epochs = range(1, len(values) + 1)
            text = f"{label} {name}".strip()
            if smooth:
                ax.plot(epochs, values, style, color=color, alpha=raw_alpha, markersize=3)
                ax.plot(epochs, smooth_curve(values, factor), "--" if style == "o" else "-",
                        color=color, label=f"{text} (smoothed)")
            else:
                ax.plot(epochs, values, style, color=color, label=text, markersize=4)
        _epoch_axis(ax)
        if metric == "accuracy":
            _accuracy_axis(ax, shown + [v for line in ax.get_lines() for v in line.get_ydata()])
        ax.set_ylabel(metric)
        ax.set_title(f"training and validation {metric}")
    return smooth


def _too_few_note(history, smooth):
    """' (N epochs: too few to smooth, drawn raw)' when smoothing was asked for but not done."""
    epochs = len(history.get("loss", ()))
    return f" ({epochs} epochs: too few to smooth, drawn raw)" if smooth and epochs < MIN_SMOOTH_EPOCHS else ""


def plot_history(history, smooth=False, factor=0.8, title=None):
    """The book's figures 5.9/5.10: training and validation accuracy and loss per epoch."""
    history = getattr(history, "history", history)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    _metric_axes(axes, history, smooth=smooth, factor=factor)
    if title:
        fig.suptitle(title + _too_few_note(history, smooth))
    _legend_below(fig, axes)
    return fig


def plot_histories(first, second, labels=("baseline", "dropout + augmentation"),
                   smooth=True, factor=0.8, title=None):
    """Two runs' training and validation curves overlaid on the same accuracy and loss axes."""
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


def plot_reference_runs(runs, title, mine=None, mine_label="your run", book=None):
    """Reference runs' accuracy and loss (mean line, min-max band over seeds); a learner's history beside or on them.

    runs: records of benchmarks/runs.json (see helpers.references). mine: a history dict; drawn on the
    same axes when it has as many epochs as the references, else in its own pair of panels to the right.
    book: the last epoch's validation accuracy in the book's own notebook (not its text), drawn as a dotted line.
    """
    import numpy as np

    mine = getattr(mine, "history", mine)
    length = min(len(r["val_accuracy"]) for r in runs)
    beside = mine is not None and len(mine.get("val_accuracy", ())) != length
    fig, axes = plt.subplots(1, 4 if beside else 2, figsize=(16 if beside else 11, 4.6))
    n = f"{len(runs)} run{'s' if len(runs) > 1 else ''}"
    for ax, metric in zip(axes[:2], ("accuracy", "loss")):
        _band(ax, [r[metric] for r in runs], "C0", f"reference training ({n})")
        _band(ax, [r[f"val_{metric}"] for r in runs], "C1", f"reference validation ({n})")
        if mine is not None and not beside:
            ax.plot(np.arange(1, len(mine[metric]) + 1), mine[metric], "o", color="C2", markersize=3,
                    label=f"{mine_label}: training")
            ax.plot(np.arange(1, len(mine[f"val_{metric}"]) + 1), mine[f"val_{metric}"], "-", color="C3",
                    label=f"{mine_label}: validation")
        if book is not None and metric == "accuracy":
            ax.axhline(book, ls=":", color="gray",
                       label=f"the book's own notebook: last epoch {book:.3f} (real photos)")
        ax.set_title(f"reference runs: {metric}")
    if beside:
        for ax, metric in zip(axes[2:], ("accuracy", "loss")):
            ax.plot(range(1, len(mine[metric]) + 1), mine[metric], "o-", color="C2", markersize=4,
                    label=f"{mine_label}: training")
            ax.plot(range(1, len(mine[f"val_{metric}"]) + 1), mine[f"val_{metric}"], "s-", color="C3",
                    markersize=4, label=f"{mine_label}: validation")
            ax.set_title(f"{mine_label}: {metric}")
    for ax, metric in zip(axes, ("accuracy", "loss") * 2):
        _epoch_axis(ax)
        ax.set_ylabel(metric)
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
        ax.set_title(f"{name}: {act.shape[0]}x{act.shape[1]}, {act.shape[-1]} channels"
                     f"{'' if shown is act else f' (first {shown.shape[-1]} shown)'}, "
                     f"{dead_channels(act)} blank for this image", fontsize="small")
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
            ax.set_title(f"channel {channels[i]}", fontsize="x-small")
    fig.suptitle(f"Patterns that maximise {layer_name}'s channels")
    fig.tight_layout()
    return fig


def plot_grad_cams(images, heatmaps, overlays, titles, size=2.6):
    """Rows of image | Grad-CAM heatmap | heatmap over the image (section 5.4.3)."""
    fig, axes = plt.subplots(len(images), 3, figsize=(3 * size, size * len(images) + 0.3), squeeze=False)
    for row, (image, heat, over, title) in enumerate(zip(images, heatmaps, overlays, titles)):
        for ax, picture, label in zip(axes[row], (image, heat, over), (title, "Grad-CAM", "superimposed")):
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
    ax.set_xticks(range(len(classes)), [f"predicted {c}" for c in classes])
    ax.set_yticks(range(len(classes)), [f"true {c}" for c in classes])
    ax.set_title(title or "Confusion matrix (test split)", fontsize="small")
    fig.tight_layout()
    return fig


def bare(axes):
    """No grid and no ticks on image axes: pixels speak for themselves."""
    for ax in axes:
        ax.grid(False)
        ax.set_xticks([]), ax.set_yticks([])


def plot_conv_state(state, title=None):
    """A still of the convolution explorer: input with the window, the kernel, the feature map."""
    import numpy as np
    from matplotlib.patches import Rectangle

    fig, axes = plt.subplots(1, 3, figsize=(12, 4.2), gridspec_kw={"width_ratios": [1, 0.6, 1]})
    image, fmap, (i, j), (top, left) = state["image"], state["feature_map"], state["position"], state["window"]
    axes[0].imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    axes[0].add_patch(Rectangle((left - 0.5, top - 0.5), 3, 3, fill=False, color="red", lw=2))
    axes[0].set_title(f"input {image.shape} ({state['image_name']})", fontsize=9)
    kernel = np.asarray(state["kernel"])
    limit = max(float(np.abs(kernel).max()), 1e-9)
    axes[1].imshow(kernel, cmap="coolwarm", vmin=-limit, vmax=limit)
    for (r, c), v in np.ndenumerate(kernel):
        axes[1].text(c, r, f"{v:.2g}", ha="center", va="center", fontsize=10)
    axes[1].set_title(f"kernel: {state['kernel_name']}", fontsize=9)
    cmap, vmin, vmax = state.get("scale") or ("viridis", None, None)  # diverging around 0 when negative
    shown = axes[2].imshow(fmap, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    fig.colorbar(shown, ax=axes[2], fraction=0.046, pad=0.03)
    axes[2].add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, color="black" if cmap != "viridis" else "red",
                                lw=2))
    axes[2].set_title(f"feature map {fmap.shape}, stride {state['stride']}, '{state['padding']}'",
                      fontsize=9)
    bare(axes)
    fig.suptitle(title or f"output cell {state['position']} = sum(window x kernel) = {state['value']:.3f};  "
                 f"size: {state['formula']}", fontsize=10)
    fig.tight_layout()
    return fig


def plot_pool_state(state, title=None):
    """A still of the pooling explorer: the feature map (kept cells bright) and the pooled output at true size.

    Both maps share one pair of axes, so one output cell is drawn exactly as large as one input cell:
    the output's size next to the input's is the shrinking. One window and the cell it becomes are boxed.
    """
    import numpy as np
    from matplotlib.patches import ConnectionPatch, Rectangle

    from .ops import same_padding

    fmap, out, kept = state["feature_map"], state["output"], state["kept"]
    size, stride, padding = state["size"], state["stride"], state["padding"]
    vmin, vmax = float(fmap.min()), float(fmap.max())
    cmap = plt.get_cmap("viridis")
    span = vmax - vmin if vmax > vmin else 1.0
    shown = cmap((fmap - vmin) / span)[:, :, :3]
    shown[~kept] *= 0.25
    (h, w), (oh, ow) = fmap.shape, out.shape
    gap = max(6, w // 10)
    x0 = w + gap  # where the pooled map starts, in input cells
    width, height = x0 + ow + 2, max(h, oh) * 1.12 + 1
    fig, ax = plt.subplots(figsize=(9, 9 * height / width + 0.5))
    ax.imshow(shown, extent=(0, w, h, 0), interpolation="nearest")
    ax.imshow(out, cmap="viridis", vmin=vmin, vmax=vmax, extent=(x0, x0 + ow, oh, 0), interpolation="nearest")
    # The window of the strongest output cell, and that cell.
    i, j = (int(v) for v in np.unravel_index(np.argmax(out), out.shape))
    before = same_padding(h, size, stride)[0] if padding == "same" else 0
    top, left = i * stride - before, j * stride - before
    ax.add_patch(Rectangle((left, top), size, size, fill=False, color="red", lw=1.5))
    ax.add_patch(Rectangle((x0 + j, i), 1, 1, fill=False, color="red", lw=1.5))
    ax.add_artist(ConnectionPatch((left + size, top + size / 2), (x0 + j, i + 0.5), "data", "data",
                                  arrowstyle="->", color="red", lw=1))
    # Below the pooled map, where there is room: a close-up of the cells around that window.
    room = min(ow, h - oh - gap - 8)
    zoom = min(12, h, w)
    if room >= 24:
        r0 = min(max(top + size // 2 - zoom // 2, 0), h - zoom)
        c0 = min(max(left + size // 2 - zoom // 2, 0), w - zoom)
        cell, y0 = room / zoom, oh + gap + 6
        ax.imshow(shown[r0:r0 + zoom, c0:c0 + zoom], extent=(x0, x0 + room, y0 + room, y0),
                  interpolation="nearest")
        for r, c in zip(*np.nonzero(kept[r0:r0 + zoom, c0:c0 + zoom])):
            ax.add_patch(Rectangle((x0 + c * cell, y0 + r * cell), cell, cell, fill=False, color="white", lw=0.6))
        ax.add_patch(Rectangle((x0 + (left - c0) * cell, y0 + (top - r0) * cell), size * cell, size * cell,
                               fill=False, color="red", lw=1.5))
        ax.add_patch(Rectangle((c0, r0), zoom, zoom, fill=False, color="white", lw=0.8, ls="--"))
        white = "kept" if state["mode"] == "max" else "in a window"
        ax.text(x0 + room / 2, y0 - 1, f"close-up of {zoom}x{zoom} cells (white: {white})",
                ha="center", va="bottom", fontsize=8)
    what = "kept (bright)" if state["mode"] == "max" else "inside a window (bright)"
    ax.text(w / 2, -2, f"feature map {fmap.shape}: {int(kept.sum()):,} values {what}", ha="center", va="bottom",
            fontsize=9)
    ax.text(x0 + ow / 2, -2, f"{state['mode']} pooled {out.shape}", ha="center", va="bottom", fontsize=9)
    ax.set_xlim(-1, x0 + ow + 1)
    ax.set_ylim(max(h, oh) + 1, -max(h, oh) * 0.07)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.suptitle(title or f"{size}x{size} windows, stride {stride}, '{padding}': {state['formula']}  "
                 "(one cell drawn the same size in both)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_shrinking(layers, title=None):
    """Feature maps layer by layer as boxes: height and width to scale, depth (channels) drawn back on its own scale."""
    from matplotlib.patches import Polygon, Rectangle

    fig, ax = plt.subplots(figsize=(12, 3.8))
    top = max(shape[0] for _, shape in layers)
    deepest = max(shape[2] for _, shape in layers)
    x = 0.0
    for n, (name, shape) in enumerate(layers):
        h, w, c = shape
        depth = top * 0.3 * c / deepest  # the depth axis: 128 channels drawn as 0.3 of the tallest side
        dx, dy = depth * 0.7, depth * 0.5
        slot = max(w + dx, top * 0.42)  # small maps still get room for their labels
        left = x + (slot - w - dx) / 2
        color = "0.75" if n == 0 else ("C3" if "pool" in name.lower() else "C1")
        for points in ([(left, h), (left + dx, h + dy), (left + w + dx, h + dy), (left + w, h)],  # top
                       [(left + w, 0), (left + w + dx, dy), (left + w + dx, h + dy), (left + w, h)]):  # side
            ax.add_patch(Polygon(points, closed=True, facecolor=color, edgecolor="black", alpha=0.55, lw=0.8))
        ax.add_patch(Rectangle((left, 0), w, h, facecolor=color, edgecolor="black", alpha=0.85, lw=0.8))
        ax.text(x + slot / 2, h + dy + top * 0.04, f"{h}x{w}\nx{c}", ha="center", va="bottom", fontsize=8)
        ax.text(x + slot / 2, -top * 0.05, name.replace(" ", "\n", 1), ha="center", va="top", fontsize=8)
        x += slot + top * 0.06
    ax.set_xlim(-top * 0.05, x)
    ax.set_ylim(-top * 0.45, top * 1.55)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title or "height x width (to scale) x channels (depth, drawn on its own scale) after each layer",
                 fontsize=10)
    fig.tight_layout()
    return fig


def plot_image_sizes(sizes, title=None):
    """Width against height of every image, and the spread of aspect ratios (section 5.2.2 data)."""
    import numpy as np

    sizes = np.asarray(sizes, dtype=float).reshape(-1, 2)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.scatter(sizes[:, 0], sizes[:, 1], s=8, alpha=0.5)
    ax1.plot([0, sizes.max()], [0, sizes.max()], color="gray", lw=0.8, ls="--", label="square")
    ax1.set(xlabel="width (px)", ylabel="height (px)", title=f"{len(sizes)} images")
    ax1.set_aspect("equal")
    ax1.legend(loc="lower right")
    ax2.hist(sizes[:, 0] / sizes[:, 1], bins=30)
    ax2.axvline(1.0, color="gray", lw=0.8, ls="--")
    ax2.set(xlabel="aspect ratio (width / height)", ylabel="images", title="every image becomes 150x150")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
