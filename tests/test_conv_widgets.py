"""The convolution and pooling explorers, driven from Python: what they show must equal helpers.ops."""
import io
import itertools
import re

import numpy as np
import pytest
from PIL import Image

from helpers import ops, widgets

HANGUL = re.compile("[가-힣]")


def classes(widget):
    """All CSS classes in a widget tree."""
    found = set(getattr(widget, "_dom_classes", ()))
    for child in getattr(widget, "children", ()):
        found |= classes(child)
    return found


def png_size(view):
    """(height, width) of the PNG an Image widget shows."""
    with Image.open(io.BytesIO(view.value)) as img:
        assert img.format == "PNG"
        return img.height, img.width


def count_updates(view):
    """A list that grows by one each time the view's picture changes."""
    seen = []
    view.observe(lambda change: seen.append(1), names="value")
    return seen


@pytest.fixture
def explorer():
    return widgets.conv_explorer(image="circle")


def test_dom_classes_follow_the_contract(explorer):
    pool = widgets.pool_explorer(explorer)
    assert {"conv-explorer", "conv-kernel", "conv-stride", "conv-padding", "conv-feature-map",
            "conv-shape", "conv-colorbar"} <= classes(explorer)
    assert {"pool-explorer", "pool-size", "pool-stride", "pool-mode", "pool-output",
            "pool-shape"} <= classes(pool)


def test_without_a_prepared_split_only_patterns_are_offered():
    explorer = widgets.conv_explorer()
    assert list(explorer.images) == list(widgets.PATTERNS)
    assert explorer.feature_map.shape == (148, 148)


def test_photos_from_the_prepared_split_are_offered(tiny_split):
    from helpers import data

    expected = data.sample_paths(split="train", n=3)
    explorer = widgets.conv_explorer()
    photos = [name for name in explorer.images if name.startswith("photo:")]
    assert len(photos) == len(expected) > 0
    assert explorer.image_picker.value == photos[0]
    assert explorer.image.shape == (150, 150)
    assert explorer.image.min() >= 0 and explorer.image.max() <= 1


@pytest.mark.parametrize("kernel", list(widgets.KERNELS))
def test_feature_map_equals_ops_for_every_setting(explorer, kernel):
    explorer.kernel_picker.value = kernel
    for stride, padding in itertools.product(range(widgets.STRIDES[0], widgets.STRIDES[1] + 1),
                                             ops.PADDINGS):
        explorer.stride_slider.value = stride
        explorer.padding_picker.value = padding
        expected = ops.conv2d(widgets.pattern("circle"), widgets.KERNELS[kernel], stride=stride,
                              padding=padding)[:, :, 0]
        np.testing.assert_allclose(explorer.feature_map, expected)
        assert str(expected.shape) in explorer.shape_label.value
        n = ops.conv_output_size(150, 3, stride, padding)
        assert f"= {n}" in explorer.shape_label.value
        assert png_size(explorer.feature_view) == (n * widgets.SCALE, n * widgets.SCALE)
        assert explorer.step_slider.max == n * n - 1


def test_shape_label_for_the_book_and_strided_cases(explorer):
    assert "(148, 148)" in explorer.shape_label.value
    assert "⌊(150 − 3) / 1⌋ + 1 = 148" in explorer.shape_label.value
    explorer.stride_slider.value = 2
    explorer.padding_picker.value = "same"
    assert "(75, 75)" in explorer.shape_label.value
    assert "⌈150 / 2⌉ = 75" in explorer.shape_label.value


def test_step_shows_patch_times_kernel(explorer):
    for stride, padding in [(1, "valid"), (2, "same"), (3, "same")]:
        explorer.stride_slider.value = stride
        explorer.padding_picker.value = padding
        ow = explorer.feature_map.shape[1]
        for step in (0, 7, ow + 3, explorer.step_slider.max):
            explorer.step_slider.value = step
            i, j = divmod(step, ow)
            patch, product, value = ops.conv_step(explorer.image, explorer.kernel, i, j, stride, padding)
            state = explorer.state
            assert state["position"] == (i, j)
            np.testing.assert_allclose(state["patch"], patch)
            np.testing.assert_allclose(state["product"], product)
            assert state["value"] == pytest.approx(explorer.feature_map[i, j])
            assert f"{value:.3f}" in explorer.step_label.value
            assert f"output cell ({i}, {j})" in explorer.step_label.value


def test_editing_the_grid_switches_to_a_custom_kernel(explorer):
    explorer.kernel_picker.value = "identity"
    np.testing.assert_allclose(explorer.feature_map, explorer.image[1:-1, 1:-1])
    explorer.kernel_cells[0].value = 2.0
    assert explorer.kernel_picker.value == widgets.CUSTOM
    kernel = widgets.KERNELS["identity"].copy()
    kernel[0, 0] = 2.0
    np.testing.assert_allclose(explorer.kernel, kernel)
    np.testing.assert_allclose(explorer.feature_map, ops.conv2d(explorer.image, kernel)[:, :, 0])
    explorer.kernel_picker.value = "sharpen"
    np.testing.assert_allclose(explorer.kernel, widgets.KERNELS["sharpen"])


def test_one_picture_update_per_change(explorer):
    fmap_updates, input_updates = count_updates(explorer.feature_view), count_updates(explorer.input_view)
    changes = [(explorer.kernel_picker, "blur"),  # also rewrites all nine grid cells
               (explorer.stride_slider, 2), (explorer.padding_picker, "same"),
               (explorer.step_slider, 5), (explorer.kernel_cells[4], 1.0)]
    for n, (control, value) in enumerate(changes, start=1):
        control.value = value
        assert len(fmap_updates) == n  # each change redraws the feature map exactly once
        assert len(input_updates) <= n
    assert len(input_updates) >= 3  # stride, padding and step move the window


def test_window_is_drawn_where_the_step_points(explorer):
    explorer.padding_picker.value = "same"
    explorer.step_slider.value = 0  # window hangs over the top-left corner into the padding
    with Image.open(io.BytesIO(explorer.input_view.value)) as img:
        pixels = np.asarray(img.convert("RGB"))
    assert pixels.shape[:2] == (152 * widgets.SCALE, 152 * widgets.SCALE)  # 1 cell of padding all round
    red = np.all(pixels == widgets.HIGHLIGHT, axis=-1)
    rows, cols = np.nonzero(red)
    assert rows.max() < 4 * widgets.SCALE and cols.max() < 4 * widgets.SCALE
    assert np.all(pixels[-1, -1] == widgets.PAD_COLOR)


def feature_pixels(explorer):
    """The feature map's PNG as an RGB array, one colour per array cell (every SCALE-th pixel)."""
    with Image.open(io.BytesIO(explorer.feature_view.value)) as img:
        return np.asarray(img.convert("RGB"))[::widgets.SCALE, ::widgets.SCALE]


def test_negative_feature_maps_use_a_diverging_map_centred_on_zero(explorer):
    import matplotlib

    fmap = explorer.feature_map  # Sobel x on the circle: left edges negative, right edges positive
    limit = np.abs(fmap).max()
    assert fmap.min() < 0 < fmap.max()
    assert explorer.scale == (widgets.DIVERGING, -limit, limit)
    pixels, lut = feature_pixels(explorer), widgets.colormap_lut(widgets.DIVERGING)
    zero = tuple(np.argwhere(fmap == 0)[0])
    assert tuple(pixels[zero]) == tuple(lut[127])  # 0 sits in the middle of the map: white-ish
    assert max(pixels[zero]) - min(pixels[zero]) < 20
    lowest, highest = np.unravel_index(np.argmin(fmap), fmap.shape), np.unravel_index(np.argmax(fmap), fmap.shape)
    assert tuple(pixels[lowest]) == tuple(lut[0]) and tuple(pixels[highest]) == tuple(lut[255])
    blue, red = matplotlib.colormaps[widgets.DIVERGING](0.0), matplotlib.colormaps[widgets.DIVERGING](1.0)
    assert blue[2] > blue[0] and red[0] > red[2]  # negative is blue, positive red
    bar = explorer.colorbar.value
    assert "linear-gradient" in bar and f"<span>{-limit:.3g}</span><span>0</span><span>{limit:.3g}</span>" in bar


def test_maps_without_negative_values_keep_viridis_from_min_to_max(explorer):
    explorer.kernel_picker.value = "blur"
    fmap = explorer.feature_map
    assert fmap.min() >= 0
    assert explorer.scale == ("viridis", fmap.min(), fmap.max())
    assert explorer.colorbar.value.count("<span>") == 2  # its two ends, no centre
    assert f"<span>{fmap.min():.3g}</span><span>{fmap.max():.3g}</span>" in explorer.colorbar.value
    assert explorer.state["scale"] == explorer.scale


def test_pooling_explorer_equals_ops_for_every_setting(explorer):
    pool = widgets.pool_explorer(explorer)
    fmap = np.maximum(explorer.feature_map, 0)
    for size, stride, mode, padding in itertools.product(range(2, 5), range(1, 5), ops.POOL_MODES,
                                                         ops.PADDINGS):
        pool.size_slider.value, pool.stride_slider.value = size, stride
        pool.mode_picker.value, pool.padding_picker.value = mode, padding
        expected = ops.pool2d(fmap, size, stride, mode, padding)
        np.testing.assert_allclose(pool.output, expected)
        assert str(expected.shape) in pool.shape_label.value
        assert png_size(pool.output_view) == tuple(n * widgets.SCALE for n in expected.shape)
        if mode == "max":  # the bright cells are exactly the values the output holds
            assert set(np.unique(pool.input[pool.kept])) == set(np.unique(expected))


def test_pooling_follows_the_convolution_explorer(explorer):
    pool = widgets.pool_explorer(explorer, size=2, stride=2)
    assert pool.output.shape == (74, 74)
    updates = count_updates(pool.output_view)
    explorer.stride_slider.value = 3  # 150 -> 50 -> 25
    assert pool.output.shape == (25, 25)
    assert len(updates) == 1
    np.testing.assert_allclose(pool.output, ops.pool2d(np.maximum(explorer.feature_map, 0), 2))
    explorer.step_slider.value = 3  # the feature map did not change: no pooling update
    assert len(updates) == 1
    pool.relu_box.value = False
    np.testing.assert_allclose(pool.output, ops.pool2d(explorer.feature_map, 2))


def test_pooling_explorer_on_a_plain_array():
    fmap = np.arange(36, dtype=float).reshape(6, 6)
    pool = widgets.pool_explorer(fmap, size=3, stride=3)
    np.testing.assert_array_equal(pool.output, [[14, 17], [32, 35]])
    assert "(2, 2)" in pool.shape_label.value
    assert "4 of 36 values kept" in pool.kept_label.value
    pool.mode_picker.value = "avg"
    np.testing.assert_array_equal(pool.output, [[7, 10], [25, 28]])
    with pytest.raises(ValueError, match="2D feature map"):
        widgets.pool_explorer(np.zeros((4, 4, 2)))


def test_bad_pictures_are_refused():
    with pytest.raises(ValueError, match="2D grayscale"):
        widgets.conv_explorer(images={"rgb": np.zeros((10, 10, 3))})
    with pytest.raises(ValueError, match="unknown kernel"):
        widgets.conv_explorer(kernel="emboss")


def test_columns_are_spaced_by_a_grid_gap(explorer):
    import ipywidgets as W

    assert not W.Layout().has_trait("gap")  # ipywidgets 8 would drop Layout(gap=...) silently
    pool = widgets.pool_explorer(explorer)
    for box in (explorer, pool):
        rows = [child for child in box.children if isinstance(child, W.GridBox)]
        assert len(rows) == 1 and rows[0].layout.grid_gap == "12px"
        assert rows[0].layout.grid_template_columns == f"repeat({len(rows[0].children)}, max-content)"


def test_korean_explorer_labels_and_the_same_english_ones_otherwise(monkeypatch):
    """Under COURSE_LANG=ko the controls, choices and readouts are Korean; the values (and what is computed) are the
    English names either way, and the English explorer is the one it always was."""
    monkeypatch.setenv("COURSE_LANG", "en")
    en = widgets.conv_explorer(image="circle", padding="same")
    controls = (en.image_picker, en.kernel_picker, en.padding_picker, en.stride_slider, en.step_slider)
    assert [c.description for c in controls] == ["picture", "kernel", "padding", "stride", "step"]
    assert en.kernel_picker.options == (*widgets.KERNELS, widgets.CUSTOM)  # plain names, no (label, value) pairs
    assert en.image_picker.options == widgets.PATTERNS  # no data prepared in tests: the patterns only
    assert en.step_label.value.startswith("<div>step ")
    assert en.shape_label.value.startswith("<b>output shape (150, 150)</b> from input (150, 150), 3x3 window, "
                                           "padding 'same' (blue border: zero padding): ⌈150 / 1⌉ = 150 (pads 1 "
                                           "before, 1 after)")
    pool_en = widgets.pool_explorer(en)
    assert pool_en.mode_picker.options == ops.POOL_MODES and pool_en.relu_box.description.startswith("ReLU first")
    assert pool_en.kept_label.value.startswith("5,625 of 22,500 values kept (25.0%)")

    monkeypatch.setenv("COURSE_LANG", "ko")
    ko = widgets.conv_explorer(image="circle", padding="same")
    pool_ko = widgets.pool_explorer(ko)
    shown = [c.description for c in (ko.image_picker, ko.kernel_picker, ko.padding_picker, ko.stride_slider,
                                     ko.step_slider, pool_ko.size_slider, pool_ko.mode_picker)]
    shown += [ko.image_picker.label, ko.kernel_picker.label, pool_ko.mode_picker.label, ko.step_label.value,
              ko.shape_label.value, pool_ko.kept_label.value, pool_ko._input_title.value]
    assert all(HANGUL.search(text) for text in shown), shown
    assert (ko.image_picker.value, ko.kernel_picker.value, pool_ko.mode_picker.value) == ("circle", "Sobel x", "max")
    np.testing.assert_array_equal(ko.feature_map, en.feature_map)
    assert "⌈150 / 1⌉ = 150" in ko.state["formula"]
    ko.kernel_cells[0].value = 3.0  # an edited kernel is the custom one, under its Korean name
    assert ko.kernel_picker.value == widgets.CUSTOM and HANGUL.search(ko.kernel_picker.label)
