"""The one place that relies on Keras' private API: decode-once batches for one flow_from_directory iterator, and
the batches model.fit reads from such an iterator, fed without tf.data's autotuning.

Keras' legacy `DirectoryIterator` decodes and resizes every file again for every batch, in its private
method `_get_batches_of_transformed_samples(self, index_array)`. `decode_once(iterator)` gives that one
iterator (never the class) a version of the method that keeps each file's decoded pixels and otherwise
does what Keras does, in the same order. tests/test_keras_internals.py fails when Keras changes what
this relies on.
"""
import copy
import random
import types

import numpy as np

PRIVATE_METHOD = "_get_batches_of_transformed_samples"
SUPPORTED_CLASS_MODES = {"binary", "sparse", "categorical", "input", None}


def directory_iterator_class():
    """Keras' legacy DirectoryIterator class (what ImageDataGenerator.flow_from_directory returns)."""
    from keras.src.legacy.preprocessing.image import DirectoryIterator

    return DirectoryIterator


def image_utils():
    """The module whose load_img and img_to_array the legacy iterators call."""
    from keras.src.legacy.preprocessing import image as legacy_image

    return legacy_image.image_utils


def _load_pixels(iterator, j):
    """Image j as load_img + img_to_array give it, decoded and resized only the first time."""
    pixels = iterator._decode_once_cache.get(j)
    if pixels is None:
        utils = image_utils()
        img = utils.load_img(iterator.filepaths[j], color_mode=iterator.color_mode,
                             target_size=iterator.target_size, interpolation=iterator.interpolation,
                             keep_aspect_ratio=iterator.keep_aspect_ratio)
        x = utils.img_to_array(img, data_format=iterator.data_format)
        if hasattr(img, "close"):
            img.close()
        small = x.astype(np.uint8)
        pixels = small if np.array_equal(small, x) else x  # 8-bit images: 4x less memory
        iterator._decode_once_cache[j] = pixels
    return pixels.astype(iterator.dtype)


def _decode_once_batches(self, index_array):
    """Keras' batch with cached pixels and the same random transforms, in the same order."""
    if (self.save_to_dir or self.class_mode not in SUPPORTED_CLASS_MODES
            or getattr(self, "sample_weight", None) is not None):
        return getattr(type(self), PRIVATE_METHOD)(self, index_array)  # Keras' own, unchanged
    batch_x = np.zeros((len(index_array),) + self.image_shape, dtype=self.dtype)
    for i, j in enumerate(index_array):
        x = _load_pixels(self, j)
        if self.image_data_generator:
            params = self.image_data_generator.get_random_transform(x.shape)
            x = self.image_data_generator.apply_transform(x, params)
            x = self.image_data_generator.standardize(x)
        batch_x[i] = x
    if self.class_mode == "input":
        return batch_x, batch_x.copy()
    if self.class_mode is None:
        return batch_x
    if self.class_mode == "categorical":
        batch_y = np.zeros((len(batch_x), len(self.class_indices)), dtype=self.dtype)
        batch_y[np.arange(len(batch_x)), self.classes[index_array]] = 1.0
    else:
        batch_y = self.classes[index_array].astype(self.dtype)
    return batch_x, batch_y


def decode_once(iterator):
    """Give this one flow_from_directory iterator the decode-once batch method; returns the same iterator."""
    if not isinstance(iterator, directory_iterator_class()):
        raise TypeError("decode_once needs a flow_from_directory iterator, "
                        f"not {type(iterator).__name__}.")
    if not decodes_once(iterator):
        iterator._decode_once_cache = {}
        setattr(iterator, PRIVATE_METHOD, types.MethodType(_decode_once_batches, iterator))
    return iterator


def independent_copy(iterator):
    """A shallow copy of a flow_from_directory iterator with its own order and, if it decodes once, its own cache."""
    twin = copy.copy(iterator)
    if decodes_once(iterator):
        del twin.__dict__[PRIVATE_METHOD]  # bound to the original: its cache, not the twin's
        decode_once(twin)
    return twin


def decodes_once(iterator):
    """True when this iterator has the decode-once batch method (set by decode_once)."""
    method = vars(iterator).get(PRIVATE_METHOD) if hasattr(iterator, "__dict__") else None
    return getattr(method, "__func__", None) is _decode_once_batches


def cached_images(iterator):
    """How many decoded images a decode-once iterator holds, and their size in megabytes."""
    cache = getattr(iterator, "_decode_once_cache", None) or {}
    return len(cache), sum(a.nbytes for a in cache.values()) / 1e6


def batches_for_signature():
    """How many batches Keras reads from a PyDataset before fitting, to learn their shapes (2 in Keras 3.15)."""
    from keras.src.trainers.data_adapters.data_adapter_utils import NUM_BATCHES_FOR_TENSOR_SPEC

    return NUM_BATCHES_FOR_TENSOR_SPEC


def steady_feed(iterator, ahead=2, shuffle=True):
    """What model.fit(iterator) reads (same batches, same order), as tf.data prefetching `ahead` batches, no autotune.

    Keras' own feeding of a PyDataset (keras.src.trainers.data_adapters.PyDatasetAdapter) reads a few batches for
    their shapes, starts every epoch with `on_epoch_end` already called once (EpochIterator.reset), shuffles the
    order of the batches with Python's `random` at the start of each pass, and calls `on_epoch_end` after it.
    This does the same in the same order; fit it with shuffle=False. shuffle=False keeps the batches in order,
    as Keras reads validation data.
    """
    import tensorflow as tf

    first = [iterator[i] for i in range(min(batches_for_signature(), len(iterator)))][0]
    iterator.on_epoch_end()
    signature = tuple(tf.TensorSpec((None,) + tuple(part.shape[1:]), tf.as_dtype(part.dtype)) for part in first)

    def one_pass():
        order = list(range(len(iterator)))
        if shuffle:
            random.shuffle(order)
        for i in order:
            yield iterator[i]
        iterator.on_epoch_end()

    dataset = tf.data.Dataset.from_generator(one_pass, output_signature=signature)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(iterator)))
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(ahead).with_options(options)
