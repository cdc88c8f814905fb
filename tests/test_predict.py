"""Using a saved model on image files: probabilities, batches with bad files, clear model errors."""
import argparse

import keras
import numpy as np
import pytest
from keras import layers
from PIL import Image

from helpers import inspect_model, predict, training
from helpers.config import IMAGE_SIZE


def tiny_model(shape=IMAGE_SIZE + (3,), seed=0):
    """A small untrained sigmoid convnet taking `shape` inputs."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(shape=shape), layers.Conv2D(2, 3, strides=4, activation="relu"),
                             layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(1, activation="sigmoid")])


def photos(folder, n=3, seed=0):
    """n random JPEGs of different sizes; return their paths."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        pixels = rng.integers(0, 256, (80 + 30 * i, 120 + 10 * i, 3), dtype=np.uint8)
        path = folder / f"photo{i}.jpg"
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


def saved(model, path):
    """Save model to path; return path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path


def test_probabilities_match_model_predict_on_the_same_input(tmp_path):
    model = tiny_model()
    paths = photos(tmp_path / "in")
    results = predict.predict_files(paths, model_path=saved(model, tmp_path / "m.keras"), batch_size=2)
    # independent truth: Keras' own loader at the training size, rescaled like the generators
    batch = np.stack([keras.utils.img_to_array(keras.utils.load_img(p, target_size=IMAGE_SIZE))
                      for p in paths]) / 255.0
    truth = model.predict(batch, verbose=0).ravel()
    for result, p in zip(results, truth):
        assert result.error is None
        assert result.dog_probability == pytest.approx(float(p), abs=1e-6)
        assert result.label == ("dog" if p >= 0.5 else "cat")
        assert result.probability == pytest.approx(p if p >= 0.5 else 1 - p, abs=1e-6)


def test_bad_files_get_an_error_and_the_rest_an_answer(tmp_path):
    model = tiny_model()
    good = photos(tmp_path / "in", n=2)
    text = tmp_path / "in" / "notes.jpg"
    text.write_text("hello")
    truncated = tmp_path / "in" / "cut.jpg"
    truncated.write_bytes(good[0].read_bytes()[:50])
    missing = tmp_path / "in" / "nope.png"
    files = [good[0], text, missing, truncated, good[1]]
    results = predict.predict_files(files, model=model)
    assert [r.path for r in results] == [str(f) for f in files]
    assert results[1].error.startswith("not a readable image")
    assert results[2].error.startswith("no such file")
    assert results[3].error.startswith("not a readable image")
    for r in results[1:4]:  # each line names its file once
        assert r.line().startswith(f"{r.path}: error: ") and r.line().count(r.path) == 1
    alone = predict.predict_files([good[0], good[1]], model=model)
    for r, expected in zip((results[0], results[4]), alone):
        assert r.error is None and r.dog_probability == pytest.approx(expected.dog_probability)


def test_missing_model_names_the_notebook_and_the_flag(tmp_path):
    with pytest.raises(predict.ModelError, match=r"No trained model at .*nothing.keras.*notebook 06.*--model"):
        predict.load_model(tmp_path / "nothing.keras")
    # default path: the models folder is empty in tests
    with pytest.raises(predict.ModelError, match="cats_and_dogs_small_2.keras"):
        predict.load_model()


def test_default_model_prefers_dropout_run_then_baseline():
    baseline = saved(tiny_model(seed=1), training.model_path(1))
    assert predict.default_model_path() == baseline
    dropout = saved(tiny_model(seed=2), training.model_path(2))
    assert predict.default_model_path() == dropout


def test_not_a_model_file(tmp_path):
    junk = tmp_path / "junk.keras"
    junk.write_text("no model here")
    with pytest.raises(predict.ModelError, match="Could not load .*junk.keras"):
        predict.load_model(junk)


@pytest.mark.parametrize("model, what", [
    (keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Flatten(), layers.Dense(1, activation="sigmoid")]),
     r"input shape is \(28, 28, 1\)"),
    (keras.Sequential([keras.Input(shape=(10,)), layers.Dense(1, activation="sigmoid")]), r"input shape is \(10,\)"),
    (keras.Sequential([keras.Input(shape=(32, 32, 3)), layers.Flatten(), layers.Dense(10, activation="softmax")]),
     r"output shape is \(10,\)"),
])
def test_wrong_model_shape_is_a_clear_error(tmp_path, model, what):
    path = saved(model, tmp_path / "other.keras")
    with pytest.raises(predict.ModelError, match=what):
        predict.load_model(path)


def test_other_input_size_is_resized_to_the_model(tmp_path):
    model = tiny_model(shape=(64, 64, 3))
    path = photos(tmp_path / "in", n=1)[0]
    result = predict.predict_file(path, model=model)
    x = keras.utils.img_to_array(keras.utils.load_img(path, target_size=(64, 64)))[None] / 255.0
    assert result.dog_probability == pytest.approx(float(model.predict(x, verbose=0)[0, 0]), abs=1e-6)


def test_rescaling_model_gets_raw_pixels(tmp_path):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input(shape=(32, 32, 3)), layers.Rescaling(1 / 255), layers.Flatten(),
                              layers.Dense(1, activation="sigmoid")])
    path = photos(tmp_path / "in", n=1)[0]
    result = predict.predict_file(path, model=model)
    x = inspect_model.load_image(path, model)
    assert x.max() > 1.0  # 0-255 pixels go in, the model rescales
    assert result.dog_probability == pytest.approx(float(model.predict(x[None], verbose=0)[0, 0]), abs=1e-6)


def run_cli(argv):
    """Parse and run `predict ...` through the subcommand the CLI registers."""
    parser = argparse.ArgumentParser()
    predict.add_subcommand(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["predict", *map(str, argv)])
    return args.func(args)


def test_command_prints_one_line_per_file_and_exit_codes(tmp_path, capsys):
    model_file = saved(tiny_model(), tmp_path / "m.keras")
    good = photos(tmp_path / "in", n=2)
    bad = tmp_path / "in" / "readme.txt"
    bad.write_text("text")
    assert run_cli([*good, "--model", model_file]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all(" (probability " in line for line in out)
    assert out[0].startswith(f"{good[0]}: ") and out[0].split(": ")[1].split()[0] in ("cat", "dog")
    assert run_cli([good[0], bad, "--model", model_file]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith(f"{good[0]}: ")
    assert captured.err.startswith(f"{bad}: error: not a readable image") and captured.err.count("\n") == 1
    assert run_cli([good[0], "--model", tmp_path / "absent.keras"]) == 2
    assert "No trained model at" in capsys.readouterr().err


def test_python_m_helpers_predict(tmp_path, capsys):
    from helpers.__main__ import main

    model_file = saved(tiny_model(), tmp_path / "m.keras")
    good = photos(tmp_path / "in", n=1)[0]
    assert main(["predict", str(good), "--model", str(model_file)]) == 0
    assert capsys.readouterr().out.startswith(f"{good}: ")
    assert main(["predict", str(good)]) == 2  # no model trained in this test's models folder
    assert "run notebook 06" in capsys.readouterr().err
