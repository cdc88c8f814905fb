"""Figures of section 5.1's operations: a convolution step, a pooling step, feature maps shrinking layer by layer."""
import matplotlib.pyplot as plt

from . import i18n
from .i18n import say

i18n.messages({
    "conv_figures.conv.input": "input {shape} ({name})",
    "conv_figures.conv.kernel": "kernel: {name}",
    "conv_figures.conv.feature_map": "feature map {shape}, stride {stride}, '{padding}'",
    "conv_figures.conv.title": "output cell {position} = sum(window x kernel) = {value:.3f};  size: {formula}",
    "conv_figures.pool.close_up_max": "close-up of {zoom}x{zoom} cells (white: kept)",
    "conv_figures.pool.close_up_avg": "close-up of {zoom}x{zoom} cells (white: in a window)",
    "conv_figures.pool.feature_map_max": "feature map {shape}: {count:,} values kept (bright)",
    "conv_figures.pool.feature_map_avg": "feature map {shape}: {count:,} values inside a window (bright)",
    "conv_figures.pool.pooled_max": "max pooled {shape}",
    "conv_figures.pool.pooled_avg": "avg pooled {shape}",
    "conv_figures.pool.title": "{size}x{size} windows, stride {stride}, '{padding}': {formula}  "
                               "(one cell drawn the same size in both)",
    "conv_figures.shrinking.title": "height x width (to scale) x channels (depth, drawn on its own scale) after "
                                    "each layer",
})


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
    axes[0].set_title(say("conv_figures.conv.input", shape=image.shape, name=state["image_name"]), fontsize=9)
    kernel = np.asarray(state["kernel"])
    limit = max(float(np.abs(kernel).max()), 1e-9)
    axes[1].imshow(kernel, cmap="coolwarm", vmin=-limit, vmax=limit)
    for (r, c), v in np.ndenumerate(kernel):
        axes[1].text(c, r, f"{v:.2g}", ha="center", va="center", fontsize=10)
    axes[1].set_title(say("conv_figures.conv.kernel", name=state["kernel_name"]), fontsize=9)
    cmap, vmin, vmax = state.get("scale") or ("viridis", None, None)  # diverging around 0 when negative
    shown = axes[2].imshow(fmap, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    fig.colorbar(shown, ax=axes[2], fraction=0.046, pad=0.03)
    axes[2].add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, color="black" if cmap != "viridis" else "red",
                                lw=2))
    axes[2].set_title(say("conv_figures.conv.feature_map", shape=fmap.shape, stride=state["stride"],
                          padding=state["padding"]), fontsize=9)
    bare(axes)
    fig.suptitle(title or say("conv_figures.conv.title", position=state["position"], value=state["value"],
                              formula=state["formula"]), fontsize=10)
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
    mode = "max" if state["mode"] == "max" else "avg"  # what the texts say: kept by max, or inside a window
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
        ax.text(x0 + room / 2, y0 - 1, say(f"conv_figures.pool.close_up_{mode}", zoom=zoom),
                ha="center", va="bottom", fontsize=8)
    ax.text(w / 2, -2, say(f"conv_figures.pool.feature_map_{mode}", shape=fmap.shape, count=int(kept.sum())),
            ha="center", va="bottom", fontsize=9)
    ax.text(x0 + ow / 2, -2, pooled_label(state["mode"], out.shape), ha="center", va="bottom", fontsize=9)
    ax.set_xlim(-1, x0 + ow + 1)
    ax.set_ylim(max(h, oh) + 1, -max(h, oh) * 0.07)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.suptitle(title or say("conv_figures.pool.title", size=size, stride=stride, padding=padding,
                              formula=state["formula"]), fontsize=10)
    fig.tight_layout()
    return fig


def pooled_label(mode, shape):
    """'max pooled (37, 37)': the pooled map's caption, in the learner's language for the modes it knows."""
    key = f"conv_figures.pool.pooled_{mode}"
    return say(key, shape=shape) if key in i18n.MESSAGES else f"{mode} pooled {shape}"


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
    ax.set_title(title or say("conv_figures.shrinking.title"), fontsize=10)
    fig.tight_layout()
    return fig
