"""Model inspection: activations, filter patterns, Grad-CAM and the test-split judgement."""
import re

import keras
import numpy as np
import pytest
from keras import layers
from PIL import Image

from helpers import inspect_model as im
from helpers import predictions


def small_convnet(size=32, seed=0):
    """A tiny untrained convnet shaped like the course's (Conv/Pool stages, one sigmoid)."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input(shape=(size, size, 3)),
        layers.Conv2D(4, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(8, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(1, activation="sigmoid"),
    ])


def colour_model(size=16):
    """Output depends only on colour: red evidence is 'dog', blue evidence is 'cat' (fixed weights)."""
    model = keras.Sequential([
        keras.Input(shape=(size, size, 3)),
        layers.Conv2D(2, 1, activation="relu", name="colour"),
        layers.GlobalAveragePooling2D(),
        layers.Dense(1, activation="sigmoid"),
    ])
    # channel 0 fires on red, channel 1 on blue
    model.get_layer("colour").set_weights([
        np.array([[[[1.0, -1.0], [-1.0, -1.0], [-1.0, 1.0]]]], "float32"), np.zeros(2, "float32")])
    model.layers[-1].set_weights([np.array([[4.0], [-4.0]], "float32"), np.zeros(1, "float32")])
    return model


def two_blob_image(size=16):
    """A black image with a red square at top-left and a blue square at bottom-right."""
    img = np.zeros((size, size, 3), "float32")
    img[1:5, 1:5, 0] = 1.0
    img[10:14, 10:14, 2] = 1.0
    return img


def test_activations_one_per_feature_layer_with_keras_shapes_and_values():
    model = small_convnet()
    image = np.random.default_rng(1).random((32, 32, 3)).astype("float32")
    acts = im.activations(model, image)
    expected = [l for l in model.layers if type(l).__name__ in ("Conv2D", "MaxPooling2D")]
    assert list(acts) == [l.name for l in expected]
    # independent truth: run the layers one after the other
    x = image[None]
    for layer in model.layers:
        x = layer(x, training=False)
        if layer.name in acts:
            assert acts[layer.name].shape == tuple(layer.output.shape[1:])
            np.testing.assert_allclose(acts[layer.name], np.asarray(x)[0], rtol=1e-5, atol=1e-6)


def test_activation_model_rejects_a_dense_only_model():
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(1)])
    with pytest.raises(ValueError, match="no Conv2D or MaxPooling2D"):
        im.activation_model(model)


def test_grad_cam_shape_and_range():
    model = small_convnet()
    image = np.random.default_rng(2).random((32, 32, 3)).astype("float32")
    heat = im.grad_cam(model, image)
    conv = model.get_layer(im.last_conv_layer(model))
    assert heat.shape == tuple(conv.output.shape[1:3])
    assert heat.min() >= 0.0 and heat.max() <= 1.0


@pytest.mark.parametrize("target, region, other", [
    ("dog", (slice(1, 5), slice(1, 5)), (slice(10, 14), slice(10, 14))),
    ("cat", (slice(10, 14), slice(10, 14)), (slice(1, 5), slice(1, 5))),
])
def test_grad_cam_highlights_the_region_the_output_depends_on(target, region, other):
    model = colour_model()
    heat = im.grad_cam(model, two_blob_image(), target=target, layer_name="colour")
    assert heat.max() == pytest.approx(1.0)
    assert heat[region].min() == pytest.approx(1.0)  # the informative square is the hot spot
    assert heat[other].max() == 0.0  # the other colour's square is not
    r, c = np.unravel_index(heat.argmax(), heat.shape)
    assert region[0].start <= r < region[0].stop and region[1].start <= c < region[1].stop


def test_grad_cam_predicted_target_follows_the_output():
    model = colour_model()
    red_only = two_blob_image()
    red_only[..., 2] = 0.0
    assert float(model.predict(red_only[None], verbose=0)[0, 0]) > 0.5
    np.testing.assert_array_equal(im.grad_cam(model, red_only, layer_name="colour"),
                                  im.grad_cam(model, red_only, target="dog", layer_name="colour"))
    with pytest.raises(ValueError, match="target"):
        im.grad_cam(model, red_only, target="horse", layer_name="colour")


def test_superimpose_keeps_image_size():
    image = np.zeros((20, 30, 3), "uint8")
    heat = np.zeros((4, 6), "float32")
    heat[0, 0] = 1.0
    out = im.superimpose(image, heat, alpha=0.5)
    assert out.shape == (20, 30, 3) and out.dtype == np.uint8
    assert out[0, 0, 0] > out[0, 0, 2]  # jet: the hot corner is red
    assert out[-1, -1, 2] > out[-1, -1, 0]  # the cold corner blue


def test_filter_pattern_of_a_red_detector_is_red():
    model = keras.Sequential([keras.Input(shape=(24, 24, 3)),
                              layers.Conv2D(2, 1, name="c"),  # linear: never dead
                              layers.GlobalAveragePooling2D(), layers.Dense(1, activation="sigmoid")])
    model.get_layer("c").set_weights([
        np.array([[[[1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]]]], "float32"), np.zeros(2, "float32")])
    patterns = im.filter_patterns(model, "c", [0, 1], steps=5, progress=False)
    assert patterns.shape == (2, 24, 24, 3) and patterns.dtype == np.uint8
    red, green = patterns[0].mean(axis=(0, 1)), patterns[1].mean(axis=(0, 1))
    assert red[0] > red[1] + 20 and red[0] > red[2] + 20  # channel 0 wants red
    assert green[1] > green[0] + 20 and green[1] > green[2] + 20  # channel 1 wants green


def test_load_image_matches_keras_load_img(tmp_path):
    path = tmp_path / "photo.png"
    pixels = np.random.default_rng(3).integers(0, 256, (90, 120, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    model = small_convnet(size=32)
    mine = predictions.load_image(path, model)
    truth = keras.utils.img_to_array(keras.utils.load_img(path, target_size=(32, 32))) / 255.0
    np.testing.assert_allclose(mine, truth, atol=1e-6)


def test_load_image_for_a_rescaling_model_matches_image_dataset_from_directory(tmp_path):
    folder = tmp_path / "one" / "cats"
    folder.mkdir(parents=True)
    pixels = np.random.default_rng(4).integers(0, 256, (70, 50, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(folder / "a.png")
    model = keras.Sequential([keras.Input(shape=(32, 32, 3)), layers.Rescaling(1 / 255),
                              layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(1, activation="sigmoid")])
    assert predictions.rescales_inside(model)
    ds = keras.utils.image_dataset_from_directory(tmp_path / "one", image_size=(32, 32),
                                                  batch_size=1, shuffle=False, verbose=False)
    truth = next(iter(ds))[0].numpy()[0]
    np.testing.assert_allclose(predictions.load_image(folder / "a.png", model), truth, atol=1e-3)


def test_load_image_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing\.jpg"):
        predictions.load_image(tmp_path / "missing.jpg")
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    with pytest.raises(ValueError, match=r"notes\.jpg: not a readable image"):
        predictions.load_image(bad)


def test_most_confident_wrong_orders_by_confidence():
    paths = ["a", "b", "c", "d", "e"]
    labels = np.array([0, 0, 1, 1, 0])
    probs = np.array([0.9, 0.2, 0.45, 0.01, 0.6])
    # wrong: a (cat, 0.9), c (dog, 0.45), d (dog, 0.01), e (cat, 0.6)
    assert predictions.most_confident_wrong(paths, labels, probs, n=3) == [
        ("d", "dogs", 0.01), ("a", "cats", 0.9), ("e", "cats", 0.6)]


def test_predict_probabilities_and_split_images(tiny_split):
    model = small_convnet(size=32)
    paths, labels = predictions.split_images("test", root=tiny_split)
    assert len(paths) == 8 and labels.tolist() == [0] * 4 + [1] * 4
    probs = predictions.predict_probabilities(model, paths, batch_size=3)
    truth = model.predict(np.stack([predictions.load_image(p, model) for p in paths]), verbose=0).ravel()
    np.testing.assert_allclose(probs, truth, rtol=1e-5, atol=1e-6)
    missing = tiny_split / "test" / "cats" / "nope.jpg"
    with pytest.raises(FileNotFoundError, match=r"nope\.jpg"):
        predictions.predict_probabilities(model, [paths[0], missing])
    errors = {}
    kept = predictions.predict_probabilities(model, [paths[0], missing, paths[1]], batch_size=2, errors=errors)
    assert list(errors) == [1] and "nope.jpg" in errors[1] and np.isnan(kept[1])
    np.testing.assert_allclose(kept[[0, 2]], truth[:2], rtol=1e-5, atol=1e-6)


def test_activation_explorer_shows_the_chosen_channel(tiny_split):
    from helpers import widgets

    model = small_convnet(size=32)
    images = widgets.images_per_class(n_per_class=2)
    assert len(images) == 4 and sum(k.startswith("dogs/") for k in images) == 2
    box = widgets.activation_explorer(model, images)
    assert "act-explorer" in box._dom_classes
    for control, css in ((box.image_picker, "act-image"), (box.layer_picker, "act-layer"),
                         (box.channel_slider, "act-channel")):
        assert css in control._dom_classes
    assert box.layer_picker.options == tuple(l.name for l in model.layers
                                             if type(l).__name__ in ("Conv2D", "MaxPooling2D"))
    name = list(images)[3]
    renders = box.renders
    box.image_picker.value = name
    box.layer_picker.value = box.layer_picker.options[2]  # second Conv2D: 8 channels
    box.channel_slider.value = 6
    assert box.renders == renders + 3  # one render per change
    truth = im.activations(model, predictions.load_image(images[name], model))[box.layer_picker.value][:, :, 6]
    np.testing.assert_allclose(box.activation, truth, rtol=1e-5, atol=1e-6)
    assert box.state["shape"] == (13, 13, 8) and box.channel_slider.max == 7
    assert box.view.value[:4] == b"\x89PNG"
    box.layer_picker.value = box.layer_picker.options[0]  # back to 4 channels: channel clamps
    assert box.channel_slider.max == 3 and box.state["channel"] == 3 and box.renders == renders + 4


def test_activation_explorer_without_data_uses_a_noise_image():
    from helpers import widgets

    box = widgets.activation_explorer(small_convnet(size=32))
    assert "noise" in box.image_picker.value and box.activation.shape == (30, 30)


def test_inspection_works_on_a_saved_and_loaded_model(tmp_path):
    model = small_convnet()
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    image = np.random.default_rng(6).random((32, 32, 3)).astype("float32")
    np.testing.assert_allclose(im.grad_cam(loaded, image, "dog"), im.grad_cam(model, image, "dog"), atol=1e-5)
    np.testing.assert_allclose(im.grad_cam(loaded, image, "cat"), im.grad_cam(model, image, "cat"), atol=1e-5)
    for (_name, a), b in zip(im.activations(loaded, image).items(), im.activations(model, image).values()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    patterns = im.filter_patterns(loaded, im.last_conv_layer(loaded), [0, 1], steps=2, progress=False)
    assert patterns.shape == (2, 32, 32, 3)


def test_pick_examples_takes_the_first_right_ones_of_each_class(monkeypatch):
    paths = ["c0", "c1", "c2", "d0", "d1", "d2", "d3"]
    labels = [0, 0, 0, 1, 1, 1, 1]
    probs = {"c0": 0.9, "c1": 0.1, "c2": 0.2, "d0": 0.3, "d1": 0.8, "d2": 0.1, "d3": 0.7}
    monkeypatch.setattr(predictions, "predict_probabilities", lambda model, ps: [probs[p] for p in ps])
    assert predictions.pick_examples(None, paths, labels) == ["c1", "c2", "d1", "d3"]
    # fewer right than asked for: the first wrong ones fill up
    assert predictions.pick_examples(None, paths, labels, per_class=3, look_at=3) == ["c1", "c2", "c0",
                                                                               "d1", "d0", "d2"]


def test_korean_activation_explorer_labels(monkeypatch):
    from helpers import widgets

    model = small_convnet(size=32)
    monkeypatch.setenv("COURSE_LANG", "ko")
    box = widgets.activation_explorer(model)
    texts = [box.image_picker.description, box.layer_picker.description, box.channel_slider.description,
             box.image_picker.label, box.info.value]
    assert all(re.search("[가-힣]", text) for text in texts), texts
    assert box.image_picker.value == widgets.activations.NOISE  # the value is the English name
    monkeypatch.setenv("COURSE_LANG", "en")
    box = widgets.activation_explorer(model)
    assert [box.image_picker.description, box.layer_picker.description, box.channel_slider.description] == [
        "image", "layer", "channel"]
    assert box.image_picker.options == (widgets.activations.NOISE,) and box.info.value.startswith(
        f"<b>{box.layer_picker.value}</b>, channel 0 of 4: 30x30 activation, max ")
