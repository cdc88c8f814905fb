"""The augmentation explorer, driven from Python: settings change the grid, the printed call reproduces it."""
import re

import numpy as np
import pytest
from tensorflow.keras.preprocessing.image import ImageDataGenerator

from helpers import widgets


@pytest.fixture(scope="module")
def explorer():
    """One explorer on the generated image (no data prepared), starting from the book's settings."""
    return widgets.augmentation_explorer(n=9, seed=7)


def reproduce(box):
    """Rebuild the preview from the printed code alone: eval the call, apply the seeds it names."""
    text = box.code.value
    call = text[text.index("ImageDataGenerator("):text.index("\n)") + 2]
    seed, n = map(int, re.search(r"seed=(\d+) \+ i\) for i in range\((\d+)\)", text).groups())
    datagen = eval(call, {"ImageDataGenerator": ImageDataGenerator})
    return [datagen.random_transform(box.state["image"].copy(), seed=seed + i) for i in range(n)]


def test_dom_classes(explorer):
    assert "aug-explorer" in explorer._dom_classes
    assert "aug-rotation" in explorer.controls["rotation_range"]._dom_classes
    assert "aug-hflip" in explorer.controls["horizontal_flip"]._dom_classes
    assert "aug-grid" in explorer.grid._dom_classes and explorer.grid.format == "png"
    assert "aug-code" in explorer.code._dom_classes
    assert "aug-redraw" in explorer.redraw._dom_classes


def test_starts_from_the_book_with_shear_in_degrees(explorer):
    call = explorer.state["call"]
    for arg in ("rescale=1./255", "rotation_range=40", "width_shift_range=0.2",
                "height_shift_range=0.2", "shear_range=11.5", "zoom_range=0.2", "horizontal_flip=True"):
        assert arg in call
    assert explorer.grid.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert explorer.state["grid"].shape == (3 * 150 + 2 * 4, 3 * 150 + 2 * 4, 3)


def test_printed_call_reproduces_the_grid(explorer):
    for key, value in (("fill_mode", "constant"), ("cval", 200), ("brightness", 0.3),
                       ("channel_shift_range", 20.0)):
        explorer.controls[key].value = value
    assert "cval=200.0" in explorer.state["call"] and "brightness_range=(0.7, 1.3)" in explorer.state["call"]
    for got, want in zip(explorer.state["images"], reproduce(explorer), strict=True):
        np.testing.assert_array_equal(got, want)
    explorer.controls["fill_mode"].value = "nearest"
    assert "cval" not in explorer.state["call"] and explorer.controls["cval"].disabled


def test_identity_settings_leave_the_image_unchanged():
    box = widgets.augmentation_explorer(n=4, book_settings=False)
    assert box.state["call"] == "ImageDataGenerator(\n    rescale=1./255,\n)"
    for image in box.state["images"]:
        np.testing.assert_array_equal(image, box.state["image"])


def test_each_setting_changes_the_output():
    box = widgets.augmentation_explorer(n=4, book_settings=False)
    plain = box.state["grid"].copy()
    for key, value in (("rotation_range", 30), ("width_shift_range", 0.2), ("height_shift_range", 0.2),
                       ("shear_range", 20.0), ("zoom_range", 0.3), ("brightness", 0.4),
                       ("channel_shift_range", 40.0)):
        default = box.controls[key].value
        box.controls[key].value = value
        assert not np.array_equal(box.state["grid"], plain), key
        box.controls[key].value = default
        np.testing.assert_array_equal(box.state["grid"], plain)


def test_horizontal_flip_mirrors_some_tiles_exactly():
    box = widgets.augmentation_explorer(n=9, book_settings=False)
    box.controls["horizontal_flip"].value = True
    x = box.state["image"]
    flipped = [np.array_equal(img, x[:, ::-1]) for img in box.state["images"]]
    same = [np.array_equal(img, x) for img in box.state["images"]]
    assert all(f or s for f, s in zip(flipped, same)) and any(flipped) and any(same)


def test_new_draw_changes_the_grid_and_stays_reproducible(explorer):
    before, seed = explorer.state["grid"].copy(), explorer.state["seed"]
    explorer.redraw.click()
    assert explorer.state["seed"] != seed
    assert not np.array_equal(before, explorer.state["grid"])
    for got, want in zip(explorer.state["images"], reproduce(explorer), strict=True):
        np.testing.assert_array_equal(got, want)


def test_picker_lists_training_images(tiny_split):
    paths = sorted(str(p) for p in (tiny_split / "train").rglob("*.jpg"))[:3]
    box = widgets.augmentation_explorer(n=4, paths=paths, book_settings=False)
    picker = box.controls["image"]
    assert next(label for label, _ in picker.options).startswith("cats/")
    first = box.state["image"].copy()
    picker.value = paths[-1]
    assert box.state["path"] == paths[-1] and not np.array_equal(first, box.state["image"])
    assert box.state["image"].shape == (150, 150, 3)


def test_count_changes_the_grid_size(explorer):
    explorer.controls["n"].value = 4
    assert len(explorer.state["images"]) == 4
    assert explorer.state["grid"].shape[:2] == (2 * 150 + 4, 2 * 150 + 4)
    explorer.controls["n"].value = 9


def slant(image):
    """How far a vertical bar's centre column moves from the top to the bottom row, in pixels."""
    weight = image[10:-10, :, 0]
    centres = (weight * np.arange(weight.shape[1])).sum(1) / weight.sum(1)
    return np.ptp(centres)


def test_book_shear_of_0_2_is_now_a_fraction_of_a_degree():
    """Keras reads shear_range in degrees: 0.2 moves a bar half a pixel, 11.5 (0.2 rad) about 26."""
    params = {"theta": 0, "tx": 0, "ty": 0, "zx": 1, "zy": 1}
    datagen = ImageDataGenerator(fill_mode="constant")
    bar = np.zeros((150, 150, 3), np.float32)
    bar[:, 70:80] = 255
    moved = {s: slant(datagen.apply_transform(bar, {**params, "shear": s})) for s in (0.2, 11.5)}
    expected = 129 * np.tan(np.radians([0.2, 11.5]))  # over the 130 rows measured
    assert moved[0.2] == pytest.approx(expected[0], abs=0.3)
    assert moved[11.5] == pytest.approx(expected[1], rel=0.1)


def test_korean_labels_but_the_same_code_to_copy(monkeypatch):
    monkeypatch.setenv("COURSE_LANG", "ko")
    box = widgets.augmentation_explorer(n=4, seed=7)
    texts = [box.controls[k].description for k in ("image", "cval", "n")] + [box.redraw.description, box.info.value]
    texts.append(box.controls["image"].options[0][0])  # the generated image's name (no data prepared)
    assert all(re.search("[가-힣]", text) for text in texts), texts
    assert box.controls["rotation_range"].description == "rotation_range (°)"  # ImageDataGenerator's own names
    assert not re.search("[가-힣]", box.code.value) and box.code.value.startswith("<pre style='font-size:12px'>datagen"
                                                                                  " = ImageDataGenerator(")
    monkeypatch.setenv("COURSE_LANG", "en")
    box = widgets.augmentation_explorer(n=4, seed=7)
    assert [box.controls[k].description for k in ("image", "cval", "n")] == ["training image", "cval (constant)",
                                                                             "versions"]
    assert box.info.value.startswith("<small>Each tile is one random draw") and box.redraw.description == (
        "new random draw")
