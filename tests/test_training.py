"""Generators, saved runs and evaluation on a tiny random split (one short epoch at most)."""
import json
import math
import re

import numpy as np
import pytest
from keras.utils import img_to_array, load_img
from test_saved_runs import saved_model

from helpers import config, models, predictions, saved_runs, training


def test_generator_batches_and_label_mapping(tiny_split):
    train, validation = training.make_generators(batch_size=5)
    assert train.class_indices == {"cats": 0, "dogs": 1}
    assert validation.class_indices == {"cats": 0, "dogs": 1}
    x, y = train[0]
    assert x.shape == (5, 150, 150, 3) and x.dtype == np.float32
    assert y.shape == (5,) and set(np.unique(y)) <= {0.0, 1.0}
    assert x.min() >= 0.0 and x.max() <= 1.0
    # Labels follow the folder each file came from.
    for name, label in zip(train.filenames, train.classes):
        assert label == {"cats": 0, "dogs": 1}[name.split("/")[0]]
    assert train.samples == 12 and validation.samples == 8


def test_iterators_are_finite_ceil_batches(tiny_split):
    train, _ = training.make_generators(batch_size=5)
    assert len(train) == math.ceil(12 / 5) == 3
    sizes = [train[i][0].shape[0] for i in range(len(train))]
    assert sizes == [5, 5, 2]


def expected_validation(validation):
    """The validation images loaded directly with Keras and rescaled, in the iterator's order."""
    return np.stack([img_to_array(load_img(p, target_size=(150, 150), interpolation="nearest"))
                     for p in validation.filepaths]) / 255.0


@pytest.mark.parametrize("augment", [False, True])
def test_validation_is_never_augmented(tiny_split, augment):
    _train, validation = training.make_generators(batch_size=8, augment=augment)
    assert validation.image_data_generator.rotation_range == 0
    assert not validation.image_data_generator.horizontal_flip
    first = np.concatenate([validation[i][0] for i in range(len(validation))])
    again = np.concatenate([validation[i][0] for i in range(len(validation))])
    np.testing.assert_allclose(first, expected_validation(validation), atol=1e-6)
    np.testing.assert_array_equal(first, again)
    labels = np.concatenate([validation[i][1] for i in range(len(validation))])
    np.testing.assert_array_equal(labels, validation.classes)


def test_augmented_training_changes_images(tiny_split):
    train, _ = training.make_generators(batch_size=12, augment=True)
    gen = train.image_data_generator
    assert gen.rotation_range == 40 and gen.horizontal_flip and gen.shear_range == 11.5
    x, _ = train[0]
    plain = np.stack([img_to_array(load_img(train.filepaths[i], target_size=(150, 150),
                                            interpolation="nearest"))
                      for i in train.index_array[:12]]) / 255.0
    assert np.abs(x - plain).mean() > 0.01


def test_missing_split_names_the_fix():
    with pytest.raises(FileNotFoundError, match="03_dataset"):
        training.make_generators()


def test_history_roundtrip_and_atomic_write():
    assert saved_runs.load_history(1) is None
    saved_model(1)
    history = {"accuracy": [np.float32(0.5), 0.75], "val_accuracy": [0.4, 0.6],
               "loss": [0.7, 0.5], "val_loss": [0.8, 0.6]}
    path = saved_runs.save_history(1, history, batch_size=20)
    assert path == config.models_dir() / "cats_and_dogs_small_1.history.json"
    assert saved_runs.load_history(1) == {k: [float(v) for v in vals] for k, vals in history.items()}
    record = json.loads(path.read_text())
    assert record["epochs"] == 2 and record["profile"] == "quick" and record["batch_size"] == 20
    assert record["model"] == saved_runs.model_path(1).name  # the model file the record belongs to
    saved_runs.update_record(1, test_accuracy=0.61)
    assert saved_runs.load_record(1)["test_accuracy"] == 0.61
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, saved_runs.model_path(1).name])


def test_run_matches_only_the_active_profile_and_source(tiny_split, monkeypatch):
    assert not saved_runs.run_matches(1)  # nothing saved
    history = {"loss": [0.7], "val_loss": [0.8]}
    saved_model(1)
    saved_runs.save_history(1, history)
    record = saved_runs.load_record(1)
    assert record["profile"] == "quick"
    assert saved_runs.run_matches(1) == (record["source"] == saved_runs.data_source())
    monkeypatch.setenv("COURSE_PROFILE", "full")
    assert not saved_runs.run_matches(1)


def test_paths_follow_models_dir():
    assert saved_runs.model_path(2) == config.models_dir() / "cats_and_dogs_small_2.keras"
    assert saved_runs.history_path(2).name == "cats_and_dogs_small_2.history.json"


def test_missing_model_names_the_notebook():
    with pytest.raises(FileNotFoundError, match="04_baseline_convnet"):
        saved_runs.load_model(1)
    with pytest.raises(FileNotFoundError, match="06_dropout_and_augmentation"):
        saved_runs.load_model(2)


def test_fit_save_load_and_evaluate(tiny_split):
    config.set_seed()
    train, validation = training.make_generators(batch_size=6)
    model = models.compile_model(models.build_baseline())
    history = training.fit_and_save(model, train, validation, epochs=1, n=1)
    assert set(history) == {"accuracy", "loss", "val_accuracy", "val_loss"}
    assert saved_runs.model_path(1).exists()
    saved = saved_runs.load_history(1)
    assert {k: pytest.approx(v) for k, v in history.items()} == saved
    assert saved_runs.load_record(1)["train_images"] == 12
    loaded = saved_runs.load_model(1)
    paths = sorted(str(p) for p in (tiny_split / "test").rglob("*.jpg"))
    np.testing.assert_allclose(predictions.predict_probabilities(loaded, paths),
                               predictions.predict_probabilities(model, paths), atol=1e-6)
    scores = training.evaluate(loaded)
    assert scores["images"] == 8
    # Accuracy on 8 test images is a multiple of 1/8, and matches the predictions.
    probs = predictions.predict_probabilities(loaded, paths)
    labels = np.array([0 if "/cats/" in p else 1 for p in paths])
    assert scores["accuracy"] == pytest.approx(np.mean((probs > 0.5) == labels))


def test_results_table_reads_saved_records():
    history = {"accuracy": [0.5, 0.8], "val_accuracy": [0.55, 0.71], "loss": [0.7, 0.4],
               "val_loss": [0.69, 0.6]}
    saved_model(1)
    saved_runs.save_history(1, history, batch_size=20)
    saved_runs.update_record(1, test={"accuracy": 0.6875, "loss": 0.6, "images": 16})
    table = saved_runs.results_table({1: "baseline", 2: "dropout + augmentation"}).splitlines()
    assert table[0].split()[:2] == ["run", "epochs"]
    assert table[2].split()[:5] == ["baseline", "2", "0.710", "0.710", "0.688"]
    assert "0.70-0.72" in table[2]
    assert "not trained: run 06_dropout_and_augmentation.ipynb" in table[3]
    assert saved_runs.describe_run(1) == "2 epochs, batch 20, profile quick, data unknown"


def test_endless_loops_over_every_image_once_per_pass_in_a_new_order():
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    x = np.arange(10, dtype="float32").reshape(10, 1, 1, 1) * np.ones((10, 2, 2, 3), "float32")
    iterator = ImageDataGenerator().flow(x, np.arange(10), batch_size=4, shuffle=True, seed=3)
    batches = training.endless(iterator)
    passes = [[int(v) for _ in range(len(iterator)) for v in next(batches)[1]] for _ in range(3)]
    assert len(iterator) == 3  # 4 + 4 + 2: the last batch of a pass is short, as Keras' own
    assert all(sorted(p) == list(range(10)) for p in passes)  # each pass: every image once
    assert len({tuple(p) for p in passes}) == 3  # reshuffled between passes


def test_full_profile_trains_notebook_06_on_the_books_schedule():
    full = config.get_profile("full")
    # The book: fit_generator(steps_per_epoch=100, epochs=100) with batches of 32, i.e. 10,000 updates.
    assert (full.augmented_steps, full.augmented_epochs, full.augmented_batch) == (100, 100, 32)
    assert config.get_profile("quick").augmented_steps is None  # one pass per epoch


def test_chance_note_below_0_6_names_accuracy_profile_and_epochs():
    assert training.chance_note(0.5125, "quick", 2) == (
        "validation accuracy 0.51: at chance, the model has not learned yet (quick profile, 2 epochs)")
    assert training.chance_note(np.float32(0.5), "full", 100).startswith("validation accuracy 0.50: at chance")
    assert "(full profile, 100 epochs)" in training.chance_note(0.5, "full", 100)
    assert training.chance_note(0.5999, "quick", 5) is not None
    assert training.chance_note(0.55, "quick", None).endswith("(quick profile)")


@pytest.mark.parametrize("val_accuracy", [0.6, 0.61, 0.864, 1.0])
def test_chance_note_is_none_from_0_6(val_accuracy):
    assert training.chance_note(val_accuracy, "full", 100) is None


def test_korean_chance_note_and_missing_split(monkeypatch):
    monkeypatch.setenv("COURSE_LANG", "ko")
    note = training.chance_note(0.5125, "quick", 2)
    assert re.search("[가-힣]", note) and "0.51" in note and "quick" in note and ", 2 " in note
    assert training.chance_note(0.7, "quick", 2) is None
    with pytest.raises(FileNotFoundError, match=r"[가-힣]") as err:
        training.make_generators(batch_size=4)
    assert "`make data`" in str(err.value)
    monkeypatch.setenv("COURSE_LANG", "en")
    assert training.chance_note(0.5125, "quick", 2) == (
        "validation accuracy 0.51: at chance, the model has not learned yet (quick profile, 2 epochs)")
