"""Still figures of notebooks 01-02: what they draw is checked against the arrays and shapes they show."""
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from helpers import conv_figures, ops, plots, widgets


def test_conv_still_uses_the_explorers_colour_scale_and_a_colour_bar():
    explorer = widgets.conv_explorer(image="edges")
    fig = conv_figures.plot_conv_state(explorer.state)
    image = fig.axes[2].images[0]
    limit = np.abs(explorer.feature_map).max()
    assert image.get_cmap().name == widgets.DIVERGING and image.get_clim() == (-limit, limit)
    assert len(fig.axes) == 4  # input, kernel, feature map and the feature map's colour bar
    plt.close(fig)


def test_pool_still_draws_one_output_cell_as_large_as_one_input_cell():
    fmap = np.maximum(ops.conv2d(widgets.pattern("edges"), widgets.KERNELS["Sobel x"])[:, :, 0], 0)
    for size, stride in [(2, 2), (3, 2), (2, 3)]:
        pool = widgets.pool_explorer(fmap, size=size, stride=stride)
        fig = conv_figures.plot_pool_state(pool.state)
        ax = fig.axes[0]
        assert len(fig.axes) == 1  # one pair of axes: one scale for both maps
        feature, pooled = ax.images[:2]
        left, right, bottom, top = feature.get_extent()
        assert (right - left, bottom - top) == fmap.shape[::-1]
        left, right, bottom, top = pooled.get_extent()
        assert (right - left, bottom - top) == pool.output.shape[::-1]  # its true size, in input cells
        np.testing.assert_array_equal(pooled.get_array(), pool.output)
        expected = matplotlib.colormaps["viridis"](fmap / fmap.max())[:, :, :3]
        expected[~pool.kept] *= 0.25  # what max pooling drops is dimmed, what it keeps stays bright
        np.testing.assert_allclose(feature.get_array(), expected)
        plt.close(fig)


def test_shrinking_figure_labels_layers_with_the_names_it_is_given_and_draws_depth():
    shapes = [("input", (150, 150, 3)), ("Conv2D 1", (148, 148, 32)), ("MaxPooling2D 1", (74, 74, 32))]
    fig = conv_figures.plot_shrinking(shapes)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "Conv2D\n1" in texts and "MaxPooling2D\n1" in texts and "148x148\nx32" in texts
    assert not any("conv2d_" in t for t in texts)
    polygons = [p for p in fig.axes[0].patches if isinstance(p, matplotlib.patches.Polygon)]
    assert len(polygons) == 2 * len(shapes)  # top and side of every box: the depth axis
    depth = [np.ptp(p.get_xy()[:, 1]) for p in polygons[1::2]]  # side faces: height + depth offset
    assert depth[1] - 148 > depth[0] - 150  # 32 channels drawn deeper than 3
    plt.close(fig)


def test_korean_figure_titles_and_the_same_english_ones_otherwise(monkeypatch):
    monkeypatch.setenv("COURSE_LANG", "en")
    state = widgets.conv_explorer(image="edges").state
    fig = conv_figures.plot_conv_state(state)
    assert [ax.get_title() for ax in fig.axes[:3]] == ["input (150, 150) (edges)", "kernel: Sobel x",
                                                       "feature map (148, 148), stride 1, 'valid'"]
    assert fig._suptitle.get_text() == (f"output cell {state['position']} = sum(window x kernel) = "
                                        f"{state['value']:.3f};  size: ⌊(150 − 3) / 1⌋ + 1 = 148")
    plt.close(fig)
    fig = conv_figures.plot_shrinking([("input", (150, 150, 3)), ("Conv2D 1", (148, 148, 32))])
    assert fig.axes[0].get_title() == ("height x width (to scale) x channels (depth, drawn on its own scale) after "
                                       "each layer")
    plt.close(fig)
    monkeypatch.setenv("COURSE_LANG", "ko")
    with matplotlib.rc_context():
        plots.set_style()  # as the Korean notebooks' set-up cell does: a font with Hangul
        fig = conv_figures.plot_conv_state(state)
    titles = [ax.get_title() for ax in fig.axes[:3]] + [fig._suptitle.get_text()]
    assert all(re.search("[가-힣]", title) for title in titles), titles
    assert "⌊(150 − 3) / 1⌋ + 1 = 148" in titles[-1] and "(edges)" in titles[0]  # values stay as they are
    plt.close(fig)
