"""Scenario 2: the augmentation explorer of 05_data_augmentation.ipynb redraws its preview grid and
rewrites its ImageDataGenerator(...) call when a learner drags the rotation slider and toggles flipping."""
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NOTEBOOK = "05_data_augmentation.ipynb"


def generator_call(lab):
    """The keyword arguments of the ImageDataGenerator(...) call the explorer shows."""
    text = lab.text("aug-code")
    start = text.find("ImageDataGenerator(")
    assert start >= 0, f"aug-code shows no ImageDataGenerator(...) call: {text!r}"
    depth, end = 0, None
    for i in range(start + len("ImageDataGenerator"), len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            end = i + 1
            break
    assert end, f"unbalanced ImageDataGenerator(...) call: {text[start:]!r}"
    call = text[start:end]
    # Evaluate the call with a stand-in that returns its keyword arguments (plain literals only).
    return eval(call, {"__builtins__": {}, "ImageDataGenerator": lambda **kwargs: kwargs})


def test_augmentation_explorer_follows_controls(lab):
    """Drag rotation_range with the mouse, click horizontal_flip: new grid, matching generator call."""
    lab.open(NOTEBOOK).run_all().check_run()
    lab.widget("aug-explorer")

    rotation = int(lab.slider_value("aug-rotation"))
    flip = lab.widget("aug-hflip").locator("input[type=checkbox]")
    flipped = flip.is_checked()
    start = generator_call(lab)
    assert start.get("rotation_range", 0) == rotation
    assert start.get("horizontal_flip", False) == flipped
    grid = lab.image_digest("aug-grid")

    # Drag the rotation slider three quarters of the way along its track.
    handle = lab.slider("aug-rotation")
    lo, hi = (float(handle.get_attribute(a)) for a in ("aria-valuemin", "aria-valuemax"))
    lab.drag_slider("aug-rotation", lo + 0.75 * (hi - lo))
    new_rotation = int(lab.slider_value("aug-rotation"))
    assert new_rotation != rotation and abs(new_rotation - (lo + 0.75 * (hi - lo))) <= 0.1 * (hi - lo), \
        f"dragging the rotation slider gave {new_rotation} (from {rotation}, range {lo}-{hi})"
    rotated = lab.wait_image_change("aug-grid", grid)
    assert rotated["digest"] != grid["digest"], "preview grid unchanged after dragging rotation_range"
    expect(lab.widget("aug-code")).to_contain_text(f"rotation_range={new_rotation}", timeout=15_000)
    call = generator_call(lab)
    assert call.get("rotation_range") == new_rotation
    assert call.get("horizontal_flip", False) == flipped

    # Toggle horizontal flipping with a click.
    flip.click()
    expect(flip).to_be_checked(checked=not flipped)
    toggled = lab.wait_image_change("aug-grid", rotated)
    assert toggled["digest"] != rotated["digest"], "preview grid unchanged after toggling horizontal_flip"
    if flipped:
        expect(lab.widget("aug-code")).not_to_contain_text("horizontal_flip", timeout=15_000)
    else:
        expect(lab.widget("aug-code")).to_contain_text("horizontal_flip=True", timeout=15_000)
    call = generator_call(lab)
    assert call.get("horizontal_flip", False) == (not flipped)
    assert call.get("rotation_range") == new_rotation
    assert {k: v for k, v in call.items() if k not in ("horizontal_flip", "rotation_range")} == \
        {k: v for k, v in start.items() if k not in ("horizontal_flip", "rotation_range")}, \
        "other ImageDataGenerator arguments changed although only rotation and flip were touched"
    assert not lab.errors(), "\n\n".join(lab.errors())
    lab.widget("aug-explorer").scroll_into_view_if_needed()
