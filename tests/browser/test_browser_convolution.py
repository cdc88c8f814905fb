"""Scenario 1: the convolution explorer of 01_convolution.ipynb reacts to the kernel, stride and
padding controls in the browser, and its output-shape label follows the book's size formula."""
import math
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NOTEBOOK = "01_convolution.ipynb"
OUTPUT = re.compile(r"output shape \((\d+), (\d+)\)")
INPUT = re.compile(r"input \((\d+), (\d+)\)")
WINDOW = re.compile(r"(\d+)x\1 window")
PADDING = re.compile(r"padding '(\w+)'")


def expected_size(n, k, stride, padding):
    """Output length along one axis: floor((n - k) / s) + 1 ('valid') or ceil(n / s) ('same')."""
    return math.ceil(n / stride) if padding == "same" else (n - k) // stride + 1


def read_shape(lab):
    """(output shape, input shape, window, padding) as the label shows them."""
    text = lab.text("conv-shape")
    found = [rx.search(text) for rx in (OUTPUT, INPUT, WINDOW, PADDING)]
    assert all(found), ("conv-shape label should show 'output shape (h, w)', 'input (h, w)', "
                        f"'kxk window' and \"padding '...'\": {text!r}")
    out, inp, window, padding = found
    return ((int(out[1]), int(out[2])), (int(inp[1]), int(inp[2])), int(window[1]), padding[1])


def check_label(lab, stride, padding):
    """Wait for the label to show the formula's output shape for its own input and window; return it."""
    _, (ih, iw), k, _ = read_shape(lab)
    expected = (expected_size(ih, k, stride, padding), expected_size(iw, k, stride, padding))
    expect(lab.widget("conv-shape")).to_contain_text(f"output shape {expected}", timeout=15_000)
    out, _, _, shown_padding = read_shape(lab)
    assert shown_padding == padding and out == expected, lab.text("conv-shape")
    return out


def test_convolution_explorer_follows_controls(lab):
    """Kernel (picked from the list), stride (arrow key, mouse drag), padding: new picture, right shape."""
    lab.open(NOTEBOOK).run_all().check_run()
    lab.widget("conv-explorer")

    stride = int(lab.slider_value("conv-stride"))
    padding = lab.widget("conv-padding").locator("select").input_value()
    first = lab.image_digest("conv-feature-map")
    shape = check_label(lab, stride, padding)

    # A different kernel: same shape, different feature map.
    old_kernel, new_kernel = lab.pick_next("conv-kernel")
    assert old_kernel != new_kernel
    after_kernel = lab.wait_image_change("conv-feature-map", first)
    assert after_kernel["digest"] != first["digest"], "feature map unchanged after picking another kernel"
    assert check_label(lab, stride, padding) == shape

    # Stride + 1 with the keyboard: smaller feature map, label per the formula.
    lab.press_slider("conv-stride", "ArrowRight")
    assert int(lab.slider_value("conv-stride")) == stride + 1
    strided = lab.wait_image_change("conv-feature-map", after_kernel)
    new_shape = check_label(lab, stride + 1, padding)
    assert new_shape[0] < shape[0] and strided["digest"] != after_kernel["digest"]
    # The picture is drawn at a fixed scale per array cell, so its size follows the shape.
    assert strided["height"] * shape[0] == after_kernel["height"] * new_shape[0]

    # The other padding, picked from the list ('same' gives ceil(n / s)).
    _, other = lab.pick_next("conv-padding")
    assert other != padding
    padded = lab.wait_image_change("conv-feature-map", strided)
    check_label(lab, stride + 1, other)

    # Drag the stride slider to its far end with the mouse.
    top = int(float(lab.slider("conv-stride").get_attribute("aria-valuemax")))
    lab.drag_slider("conv-stride", top)
    assert int(lab.slider_value("conv-stride")) == top
    dragged = lab.wait_image_change("conv-feature-map", padded)
    assert dragged["digest"] != padded["digest"]
    check_label(lab, top, other)

    assert not lab.errors(), "\n\n".join(lab.errors())
    lab.widget("conv-explorer").scroll_into_view_if_needed()
