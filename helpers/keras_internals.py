"""The one place that relies on Keras' private API: decode-once batches for one flow_from_directory iterator (with
each batch's random transforms applied in one call), and the batches model.fit reads from such an iterator, fed
without tf.data's autotuning.

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
    datagen = self.image_data_generator
    if transforms_batches(self) and batch_transformable(datagen):
        pictures = [_load_pixels(self, j) for j in index_array]
        params = [datagen.get_random_transform(x.shape) for x in pictures]  # Keras' draws, in Keras' order
        for i, x in enumerate(_transform_batch(np.stack(pictures), params)):
            batch_x[i] = datagen.standardize(x)
    else:
        for i, j in enumerate(index_array):
            x = _load_pixels(self, j)
            if datagen:
                params = datagen.get_random_transform(x.shape)
                x = datagen.apply_transform(x, params)
                x = datagen.standardize(x)
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


def transform_in_batches(iterator):
    """Make this decode-once iterator apply each batch's random transforms in one TensorFlow call; returns it.

    Keras draws every picture's transform as before (get_random_transform, same order); Keras applies them one
    picture and one channel at a time with scipy.ndimage (order-1 spline, 'nearest' fill). The batch call uses
    TensorFlow's ImageProjectiveTransformV3 (bilinear, 'nearest' fill): the same pixels to float32 precision.
    Other settings (channel shift, brightness, other fill modes or orders) keep Keras' own way.
    """
    decode_once(iterator)
    iterator._transform_in_batches = True
    return iterator


def transforms_batches(iterator):
    """True when transform_in_batches was applied to this iterator."""
    return decodes_once(iterator) and vars(iterator).get("_transform_in_batches", False)


def batch_transformable(datagen):
    """True when this ImageDataGenerator's transforms can be applied in one batch call (see transform_in_batches)."""
    return (datagen is not None and datagen.fill_mode == "nearest" and datagen.interpolation_order == 1
            and not datagen.channel_shift_range and datagen.brightness_range is None
            and datagen.channel_axis == 3 and datagen.row_axis == 1 and datagen.col_axis == 2)


def _transform_batch(pictures, params):
    """Keras' apply_transform for each (height, width, channels) picture with its params, in one call."""
    import tensorflow as tf

    height, width = pictures.shape[1:3]
    transforms = np.array([_projective_parameters(p, height, width) for p in params], np.float32)
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=pictures.astype(np.float32), transforms=transforms, output_shape=[height, width],
        fill_value=0.0, interpolation="BILINEAR", fill_mode="NEAREST").numpy()
    for i, p in enumerate(params):
        if p.get("flip_horizontal"):
            out[i] = out[i, :, ::-1]
        if p.get("flip_vertical"):
            out[i] = out[i, ::-1]
    return out.astype(pictures.dtype, copy=False)


def _projective_parameters(params, height, width):
    """The 8 numbers ImageProjectiveTransformV3 takes for the affine map Keras' apply_affine_transform builds.

    Keras (legacy apply_affine_transform): rotation @ shift @ shear @ zoom about the picture's centre, rows and
    columns swapped, given to scipy.ndimage.affine_transform, which reads input (row, col) = M @ (row, col) + o.
    TensorFlow reads input (col, row) = (a0 col + a1 row + a2, b0 col + b1 row + b2).
    """
    theta, shear = np.deg2rad(params.get("theta", 0)), np.deg2rad(params.get("shear", 0))
    m = np.array([[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0], [0, 0, 1]])
    m = m @ np.array([[1, 0, params.get("tx", 0)], [0, 1, params.get("ty", 0)], [0, 0, 1]])
    m = m @ np.array([[1, -np.sin(shear), 0], [0, np.cos(shear), 0], [0, 0, 1]])
    m = m @ np.array([[params.get("zx", 1), 0, 0], [0, params.get("zy", 1), 0], [0, 0, 1]])
    ox, oy = height / 2 - 0.5, width / 2 - 0.5
    m = np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]]) @ m @ np.array([[1, 0, -ox], [0, 1, -oy], [0, 0, 1]])
    m[:, [0, 1]] = m[:, [1, 0]]
    m[[0, 1]] = m[[1, 0]]
    return [m[1, 1], m[1, 0], m[1, 2], m[0, 1], m[0, 0], m[0, 2], 0.0, 0.0]


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


def steady_feed(iterator, ahead=2):
    """What model.fit(iterator) reads (same batches, same order), as tf.data prefetching `ahead` batches, no autotune.

    Keras' own feeding of a PyDataset (keras.src.trainers.data_adapters.PyDatasetAdapter) reads a few batches for
    their shapes, starts every epoch with `on_epoch_end` already called once (EpochIterator.reset), shuffles the
    order of the batches with Python's `random` at the start of each pass, and calls `on_epoch_end` after it.
    This does the same in the same order; fit it with shuffle=False.
    """
    import tensorflow as tf

    first = [iterator[i] for i in range(min(batches_for_signature(), len(iterator)))][0]
    iterator.on_epoch_end()

    def one_pass():
        order = list(range(len(iterator)))
        random.shuffle(order)
        for i in order:
            yield iterator[i]
        iterator.on_epoch_end()

    dataset = tf.data.Dataset.from_generator(one_pass, output_signature=_signature(first))
    return _prefetched(dataset.apply(tf.data.experimental.assert_cardinality(len(iterator))), ahead)


def _signature(batch):
    """tf.TensorSpecs for batches shaped like this (images, labels) batch, any batch size."""
    import tensorflow as tf

    return tuple(tf.TensorSpec((None,) + tuple(part.shape[1:]), tf.as_dtype(part.dtype)) for part in batch)


def _prefetched(dataset, ahead):
    """The dataset preparing `ahead` batches in the background, with tf.data's autotuning switched off."""
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(ahead).with_options(options)
