"""Input pipelines alone (no training): flow_from_directory with rescaling only and with the chapter's augmentation
(Keras' transforms and Pillow's), and tf.data with preprocessing layers, plain and cached.
"""
import contextlib
import sys

from helpers import config, measure, speed


def pipeline_rate(iterator, batches):
    """Images/s drawing `batches` batches from a flow_from_directory iterator."""
    return measure.images_per_second(measure.generator_batches(iterator), limit=batches)[1]


def tf_data_pipeline(folder, augment, cache, batch_size=20):
    """keras.utils.image_dataset_from_directory + preprocessing layers, mapped in parallel and prefetched."""
    import keras
    import tensorflow as tf

    ds = keras.utils.image_dataset_from_directory(folder, image_size=config.IMAGE_SIZE, batch_size=batch_size,
                                                  label_mode="binary", interpolation="nearest",
                                                  shuffle=True, seed=config.SEED, verbose=False)
    rescale = keras.layers.Rescaling(1.0 / 255)
    ds = ds.map(lambda x, y: (rescale(x), y), num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        ds = ds.cache()
    if augment:
        layers = keras.Sequential([keras.layers.RandomFlip("horizontal"),
                                   keras.layers.RandomRotation(40 / 360, fill_mode="nearest"),
                                   keras.layers.RandomTranslation(0.2, 0.2, fill_mode="nearest"),
                                   keras.layers.RandomZoom(0.2, fill_mode="nearest")])
        ds = ds.map(lambda x, y: (layers(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def dataset_rate(ds, batches):
    """Images/s of one pass over up to `batches` batches of a tf.data pipeline."""
    return measure.images_per_second(ds.take(batches))[1]


def measure_pipelines(split_root, quick, log):
    """Images/s of each way to feed the training split (no training), in batches of 20."""
    from helpers import training

    batches = 10 if quick else 100
    train_dir = split_root / "train"
    out = {}
    for augment in (False, True):
        mode = "augmented" if augment else "rescale"
        datagen = training.augmenting_datagen() if augment else training.rescaling_datagen()
        with contextlib.redirect_stdout(sys.stderr):
            plain = training.flow(datagen, "train", 20, directory=split_root)
            pillow = speed.with_pillow_transforms(training.flow(datagen, "train", 20, directory=split_root))
        log(f"  flow_from_directory, {mode}")
        out[f"flow_{mode}"] = pipeline_rate(plain, batches)
        if augment:  # Pillow moves only augmented pictures
            out[f"flow_{mode}_pillow"] = pipeline_rate(pillow, batches)
        log(f"  tf.data, {mode}")
        ds = tf_data_pipeline(train_dir, augment, cache=False)
        dataset_rate(ds, 2)
        out[f"tfdata_{mode}"] = dataset_rate(ds, batches)
        cached = tf_data_pipeline(train_dir, augment, cache=True)
        dataset_rate(cached, 10 ** 6)  # fill the cache
        out[f"tfdata_{mode}_cached"] = dataset_rate(cached, batches)
    return out
