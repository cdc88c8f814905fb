"""helpers.images reads a file the way each Keras pipeline does (checked against the pipelines themselves)."""
import numpy as np
import pytest
from PIL import Image

from helpers import images


@pytest.fixture
def photo_dir(tmp_path):
    """One class folder with one 61x47 picture (not square: axis order shows), lossless so decoders agree."""
    rng = np.random.default_rng(3)
    pixels = (np.linspace(0, 1, 47)[None, :, None] * 200 + rng.integers(0, 55, (61, 47, 3))).astype(np.uint8)
    (tmp_path / "cats").mkdir()
    Image.fromarray(pixels).save(tmp_path / "cats" / "a.png")
    return tmp_path


def test_generator_pipeline_matches_flow_from_directory(photo_dir):
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    batch, _ = next(ImageDataGenerator(rescale=1.0 / 255).flow_from_directory(
        photo_dir, target_size=(30, 20), batch_size=1, class_mode="binary", shuffle=False))
    np.testing.assert_allclose(images.model_input(photo_dir / "cats" / "a.png", (30, 20)), batch[0], atol=1e-6)


def test_dataset_pipeline_matches_image_dataset_from_directory(photo_dir):
    import keras

    dataset = keras.utils.image_dataset_from_directory(photo_dir, image_size=(30, 20), batch_size=1,
                                                       shuffle=False, verbose=False)
    batch = next(iter(dataset))[0].numpy()
    np.testing.assert_allclose(images.model_input(photo_dir / "cats" / "a.png", (30, 20), pipeline="dataset"),
                               batch[0], atol=1e-3)


def test_gray_and_display_loads_follow_pillow(photo_dir):
    path = photo_dir / "cats" / "a.png"
    with Image.open(path) as img:
        gray = np.asarray(img.convert("L").resize((20, 30), Image.BILINEAR), dtype=np.float64) / 255.0
        rgb = np.asarray(img.convert("RGB"))
    np.testing.assert_array_equal(images.load_gray(path, (30, 20)), gray)
    np.testing.assert_array_equal(images.load_rgb(path), rgb)
    x = images.model_input(path, (30, 20))
    np.testing.assert_array_equal(images.display_array(x), np.clip(x * 255.0, 0, 255).astype("uint8"))


def test_transparency_lands_on_white_and_bad_pipelines_are_named(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[:2, :, :] = (200, 10, 10, 255)  # top half opaque red, bottom half fully transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "t.png")
    shown = images.load_rgb(tmp_path / "t.png")
    assert shown[0, 0].tolist() == [200, 10, 10] and shown[3, 3].tolist() == [255, 255, 255]
    with pytest.raises(ValueError, match="unknown pipeline 'tfdata'"):
        images.model_input(tmp_path / "t.png", pipeline="tfdata")
