"""The private Keras API that decode-once relies on: these fail loudly when Keras changes it."""
import copy
import inspect

import numpy as np
import pytest

from helpers import keras_internals, speed, training


def all_batches(iterator, epochs=2):
    """Every batch of a few epochs, as the training loop sees them (epoch end reshuffles)."""
    out = []
    for _ in range(epochs):
        out += [iterator[i] for i in range(len(iterator))]
        iterator.on_epoch_end()
    return out


def keras_classes():
    """Keras' classes a flow_from_directory iterator is made of (its whole MRO, inside Keras)."""
    cls = keras_internals.directory_iterator_class()
    return [c for c in cls.__mro__ if c.__module__.startswith("keras")]


def class_dicts():
    """A snapshot of every attribute of Keras' iterator classes and of ImageDataGenerator."""
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    return {c: dict(vars(c)) for c in keras_classes() + [ImageDataGenerator]}


def test_flow_from_directory_still_returns_the_class_decode_once_expects(tiny_split):
    iterator = training.flow(training.rescaling_datagen(), "train", batch_size=5)
    assert type(iterator) is keras_internals.directory_iterator_class()


def test_the_private_batch_method_is_still_there_with_its_signature():
    method = getattr(keras_internals.directory_iterator_class(), keras_internals.PRIVATE_METHOD)
    assert list(inspect.signature(method).parameters) == ["self", "index_array"]
    utils = keras_internals.image_utils()
    assert list(inspect.signature(utils.load_img).parameters) == [
        "path", "color_mode", "target_size", "interpolation", "keep_aspect_ratio"]
    assert "data_format" in inspect.signature(utils.img_to_array).parameters


@pytest.mark.parametrize("augment", [False, True])
def test_decode_once_batches_are_keras_own_bit_for_bit(tiny_split, augment):
    datagen = training.augmenting_datagen() if augment else training.rescaling_datagen()
    results = []
    for cached in (False, True):
        np.random.seed(7)
        iterator = training.flow(datagen, "train", batch_size=5, seed=None)
        if cached:
            assert speed.decode_once(iterator) is iterator
        results.append((all_batches(iterator), np.random.random()))
    (plain, plain_next), (fast, fast_next) = results
    assert plain_next == fast_next  # the global random stream moved exactly as much
    for (x0, y0), (x1, y1) in zip(plain, fast, strict=True):
        np.testing.assert_array_equal(x0, x1)
        np.testing.assert_array_equal(y0, y1)
        assert x0.dtype == x1.dtype and y0.dtype == y1.dtype
    assert speed.cached_images(iterator)[0] == iterator.samples == 12
    assert speed.cached_images(iterator)[1] == pytest.approx(12 * 150 * 150 * 3 / 1e6)


def test_decode_once_reads_each_file_once(tiny_split, monkeypatch):
    iterator = speed.decode_once(training.flow(training.rescaling_datagen(), "validation", 3))
    utils = keras_internals.image_utils()
    calls = []
    real = utils.load_img
    monkeypatch.setattr(utils, "load_img", lambda path, **kw: calls.append(path) or real(path, **kw))
    all_batches(iterator, epochs=3)
    assert sorted(calls) == sorted(iterator.filepaths)
    assert speed.decode_once(iterator) is iterator  # applying twice changes nothing
    twin = copy.copy(iterator)  # a plain copy shares the cache
    all_batches(twin, epochs=1)
    assert len(calls) == len(iterator.filepaths)
    own = keras_internals.independent_copy(iterator)  # what the estimates time: decodes again, leaves the original
    assert speed.decodes_once(own) and speed.cached_images(own)[0] == 0
    for a, b in zip(all_batches(own, epochs=1), all_batches(iterator, epochs=1)):
        np.testing.assert_array_equal(a[0], b[0])
    assert len(calls) == 2 * len(iterator.filepaths)
    assert speed.cached_images(iterator)[0] == iterator.samples


def test_decode_once_changes_only_the_iterator_it_is_given(tiny_split):
    before = class_dicts()
    fast = speed.decode_once(training.flow(training.rescaling_datagen(), "train", batch_size=6))
    plain = training.flow(training.rescaling_datagen(), "train", batch_size=6)
    assert class_dicts() == before
    assert speed.decodes_once(fast) and not speed.decodes_once(plain)
    all_batches(plain, epochs=1)
    assert speed.cached_images(plain) == (0, 0.0)


def test_setup_notebook_leaves_keras_classes_untouched(tiny_split):
    import helpers

    before = class_dicts()
    helpers.setup_notebook()  # what every notebook's first cell runs
    assert class_dicts() == before
    iterator = training.flow(training.rescaling_datagen(), "train", batch_size=6)
    assert not speed.decodes_once(iterator)


def test_decode_once_rejects_other_data():
    with pytest.raises(TypeError, match="flow_from_directory"):
        speed.decode_once(np.zeros((2, 150, 150, 3)))


def fit_history(feed, epochs=3):
    """Losses of a seeded baseline fitted on the tiny split through feed(train iterator) -> (data, fit kwargs)."""
    import keras

    from helpers import models

    keras.utils.set_random_seed(3)
    train, validation = training.make_generators(batch_size=4)
    model = models.compile_model(models.build_baseline())
    data, kwargs = feed(speed.decode_once(train))
    return model.fit(data, epochs=epochs, validation_data=validation, verbose=0, **kwargs).history


def test_steady_feed_trains_exactly_as_fit_on_the_iterator(tiny_split):
    """Keras' own feeding and steady_feed give the same batches in the same order: the same losses, epoch by epoch."""
    keras_own = fit_history(lambda train: (train, {}))
    steady = fit_history(lambda train: (speed.steady_feed(train), {"shuffle": False}))
    for key in ("loss", "val_loss", "accuracy"):
        np.testing.assert_allclose(steady[key], keras_own[key], rtol=1e-6, atol=1e-7)
    # Without shuffling the batch order, as steady_feed does, training would differ: the check can fail.
    unshuffled = fit_history(lambda train: (train, {"shuffle": False}))
    assert not np.allclose(unshuffled["loss"], keras_own["loss"], rtol=1e-6, atol=1e-7)


def test_steady_feed_reads_as_keras_does(tiny_split):
    iterator = training.flow(training.rescaling_datagen(), "train", 5)
    dataset = speed.steady_feed(iterator)
    assert int(dataset.cardinality()) == len(iterator) == 3
    assert iterator.total_batches_seen == keras_internals.batches_for_signature() == 2
    batches = list(dataset.as_numpy_iterator())
    assert [len(y) for _, y in batches] == [5, 5, 2] or sorted(len(y) for _, y in batches) == [2, 5, 5]
    assert batches[0][0].dtype == np.float32 and batches[0][0].shape[1:] == (150, 150, 3)


def test_steady_feed_rejects_other_data_with_one_clear_line(tiny_split):
    with pytest.raises(TypeError, match="steady_feed needs a flow_from_directory iterator, not ndarray"):
        speed.steady_feed(np.zeros((2, 150, 150, 3)))
    with pytest.raises(TypeError, match="not generator"):
        speed.steady_feed(training.endless(training.flow(training.rescaling_datagen(), "train", 5)))
