"""Scenario 4: the activation explorer of 07_what_the_convnet_learned.ipynb shows another activation when
a learner picks another layer from the list and steps the channel slider with the keyboard."""
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NOTEBOOK = "07_what_the_convnet_learned.ipynb"
CHANNEL = re.compile(r"channel (\d+) of (\d+)")


def shown_channel(lab):
    """(channel, channels) as the explorer's caption states them."""
    found = CHANNEL.search(lab.text("act-info"))
    assert found, f"act-info should say 'channel k of n': {lab.text('act-info')!r}"
    return int(found[1]), int(found[2])


def test_activation_explorer_follows_layer_and_channel(lab):
    """Another layer (picked from the list), then the next channels (arrow key): a new picture each time."""
    lab.open(NOTEBOOK).run_all().check_run()
    lab.widget("act-explorer")
    lab.widget("act-image")
    first = lab.image_digest("act-view")

    # Another layer: the caption names it and the picture changes (activations differ in size).
    old_layer, new_layer = lab.pick_next("act-layer")
    assert old_layer != new_layer
    after_layer = lab.wait_image_change("act-view", first)
    expect(lab.widget("act-info")).to_contain_text(new_layer, timeout=15_000)
    assert after_layer["digest"] != first["digest"], "picture unchanged after picking another layer"

    # The next channel with the keyboard. Two channels that are both blank for this image would draw
    # the same picture, so step on (at most a few channels) until one differs.
    channel, channels = shown_channel(lab)
    before, changed = after_layer, None
    for step in range(1, 5):
        if channel + step >= channels:
            break
        lab.press_slider("act-channel", "ArrowRight")
        expect(lab.widget("act-info")).to_contain_text(f"channel {channel + step} of {channels}",
                                                       timeout=15_000)
        assert int(lab.slider_value("act-channel")) == channel + step
        lab.wait_idle(60)
        now = lab.image_digest("act-view")
        if now["digest"] != before["digest"]:
            changed = now
            break
    assert changed is not None, "picture unchanged after stepping the channel slider"
    assert not lab.errors(), "\n\n".join(lab.errors())
    lab.widget("act-explorer").scroll_into_view_if_needed()
