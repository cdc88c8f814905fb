"""Speed on a CPU, on public APIs only: FLOPs per image, the optional speed-ups, and a fit-time estimate.

    training_flops_per_image(model)            # ~1.4e9 for the chapter's baseline (forward x 3)
    steady_feed(iterator)                      # a flow_from_directory iterator fed to fit without tf.data's autotuning
    with_pillow_transforms(iterator)           # its random rotation, shift, shear and zoom done by Pillow
    callbacks = [FitTimeEstimate()]            # from the second epoch: how long the fit takes, when it ends

The speed-ups are optional: a notebook's "CPU speed-ups (not in the book)" cell rebinds a generator to one of them,
and without that cell only the time changes (benchmarks/README.md measures by how much).
"""
import functools
import statistics
import time
import warnings

from . import i18n, transforms
from .config import get_profile
from .i18n import say

# Training costs about three forward passes: the forward pass, the gradient with respect to the
# activations and the gradient with respect to the weights, each as many multiply-adds.
TRAINING_PASSES = 3
QUICK_HINT = ("For a first look in a few minutes, use the quick profile: set COURSE_PROFILE=quick "
              "(or run `make lab PROFILE=quick`).")
# Batches steady_feed prepares ahead of training (fixed: tf.data's autotuning is off).
AHEAD = 2
# What Keras says when fit's default shuffle=True meets a tf.data dataset; steady_feed's passes are shuffled by
# the iterator itself, so the warning would only confuse (steady_feed filters this one message, nothing else).
TF_DATA_SHUFFLE_WARNING = r"`shuffle=True` was passed, but will be ignored since the data `x` was provided as a tf"

i18n.messages({
    "speed.quick_hint": QUICK_HINT,
    "speed.seconds": "about {seconds} seconds",
    "speed.minute": "about {minutes} minute",
    "speed.minutes": "about {minutes} minutes",
    "speed.estimate": "This fit ({epochs} epochs, {profile} profile) takes {duration} on this machine ({epoch_s:.0f} s "
                      "per epoch after the first); it should end at {end}.",
    "speed.estimate_update": "Update: this fit ({epochs} epochs, {profile} profile) takes {duration} on this machine "
                             "({epoch_s:.0f} s per epoch after the first); it should end at {end}.",
})


# ---------------------------------------------------------------- FLOPs from the layer shapes

def layer_macs(layer):
    """Multiply-adds per image in one layer's forward pass: Conv2D and Dense; 0 for the others."""
    import keras

    if isinstance(layer, keras.layers.Conv2D):
        kernel_h, kernel_w, channels_in, channels_out = layer.kernel.shape
        out_h, out_w = layer.output.shape[1:3]
        return int(out_h * out_w * channels_out * kernel_h * kernel_w * channels_in)
    if isinstance(layer, keras.layers.Dense):
        units_in, units_out = layer.kernel.shape
        return int(units_in * units_out)
    return 0


def forward_flops_per_image(model):
    """FLOPs of one image's forward pass: 2 per multiply-add of every Conv2D and Dense layer."""
    return 2 * sum(layer_macs(layer) for layer in model.layers)


def training_flops_per_image(model):
    """FLOPs to train on one image: about three forward passes (forward, two backward products)."""
    return TRAINING_PASSES * forward_flops_per_image(model)


# ---------------------------------------------------------------- steady feeding

def _iterator_class():
    """The class flow_from_directory returns (TensorFlow's public name for Keras' DirectoryIterator)."""
    from tensorflow.keras.preprocessing.image import DirectoryIterator

    return DirectoryIterator


def _signature(iterator):
    """The tf.TensorSpec of a batch (images, labels), from the iterator's settings: no batch is read."""
    import tensorflow as tf

    dtype = tf.as_dtype(iterator.dtype)
    images = tf.TensorSpec((None, *iterator.image_shape), dtype)
    labels = {"binary": (None,), "sparse": (None,), "categorical": (None, len(iterator.class_indices))}
    if iterator.class_mode not in labels or getattr(iterator, "sample_weight", None) is not None:
        raise TypeError(f"steady_feed feeds images with binary, sparse or categorical labels, not class_mode="
                        f"{iterator.class_mode!r} (or sample weights).")
    return images, tf.TensorSpec(labels[iterator.class_mode], dtype)


def steady_feed(iterator):
    """The batches of a flow_from_directory iterator as a tf.data dataset, two prepared ahead, no autotuning.

    Keras feeds such an iterator to `fit` through tf.data with autotuned prefetching; on a 2-core machine that
    made some of notebook 04's epochs take twice as long as the others (benchmarks/README.md). This feeds the same
    iterator through public tf.data (`from_generator` with a fixed `prefetch(2)`, autotuning off in its options).

    One pass per use: each time `fit` starts reading it (every epoch, or when a longer `steps_per_epoch` has used
    up a pass) it reads the iterator's batches 0, 1, ... once, in order; every pass after the first starts with the
    iterator's `on_epoch_end()`, which draws a new order of the pictures when the iterator shuffles. So each pass
    holds every picture once, as a pass of the plain iterator does; the batches are not Keras' own (Keras also
    shuffles the order of the batches), and the random augmentation draws differ. Its length is the iterator's,
    so `fit` and `evaluate` treat it as they treat the iterator: `steps_per_epoch=100` over 100 batches is one pass
    per epoch, and `validation_steps=50` over 32 batches reads the 32 (Keras warns that the input ran out, as it
    does for the iterator). Works as training data and as `validation_data`.

    `fit`'s default `shuffle=True` makes Keras warn that it does not shuffle a tf.data dataset; the pictures are
    shuffled by the iterator, so this hides that one warning message.
    """
    import tensorflow as tf

    if not isinstance(iterator, _iterator_class()):
        raise TypeError(f"steady_feed needs a flow_from_directory iterator, not {type(iterator).__name__}.")
    signature = _signature(iterator)
    passes = []

    def one_pass():
        if passes:
            iterator.on_epoch_end()  # a new order of the pictures for this pass
        passes.append(len(passes))
        for i in range(len(iterator)):
            yield iterator[i]

    dataset = tf.data.Dataset.from_generator(one_pass, output_signature=signature)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(iterator)))
    options = tf.data.Options()
    options.autotune.enabled = False
    warnings.filterwarnings("ignore", message=TF_DATA_SHUFFLE_WARNING, category=UserWarning)
    return dataset.prefetch(AHEAD).with_options(options)


# ---------------------------------------------------------------- Pillow transforms

@functools.cache
def pillow_generator_class():
    """ImageDataGenerator with its public `apply_transform` doing rotation, shift, shear and zoom with Pillow."""
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    class PillowImageDataGenerator(ImageDataGenerator):
        """Keras' ImageDataGenerator; its random rotation, shift, shear and zoom are moved by Pillow.

        The same random parameters (Keras draws them, in the same order) and the same pixels within float
        rounding (helpers/transforms.py) in about half the CPU time. Settings Pillow does not cover (another
        fill mode or interpolation order) stay Keras' own.
        """

        def apply_transform(self, x, transform_parameters):
            if transforms.supported(self, x):
                x, transform_parameters = transforms.affine_done(x, transform_parameters)
            return super().apply_transform(x, transform_parameters)

    return PillowImageDataGenerator


def with_pillow_transforms(iterator):
    """The iterator with its ImageDataGenerator's random transforms done by Pillow: rebind your generator to it.

    The iterator gets a new generator object (`iterator.image_data_generator`, a PillowImageDataGenerator with a
    copy of the old one's settings, taken now: call it after any `datagen.fit`); the ImageDataGenerator you made is
    left as it was. Everything else stays: `len()`, indexing, `on_epoch_end()`, `.samples`, `.class_indices`, the
    order of the pictures and the random draws. Returns the same iterator.
    """
    datagen = getattr(iterator, "image_data_generator", False)
    if datagen is False or not hasattr(iterator, "on_epoch_end"):
        raise TypeError(f"with_pillow_transforms needs an ImageDataGenerator iterator, not {type(iterator).__name__}.")
    cls = pillow_generator_class()
    if datagen is not None and not isinstance(datagen, cls):
        own = object.__new__(cls)
        own.__dict__.update(vars(datagen))
        iterator.image_data_generator = own
    return iterator


def uses_pillow(iterator):
    """True when the iterator's random transforms are done by Pillow (with_pillow_transforms was applied)."""
    return isinstance(getattr(iterator, "image_data_generator", None), pillow_generator_class())


# ---------------------------------------------------------------- how long a fit takes

def _callback_class():
    """keras.callbacks.Callback (Keras loads with this module, after helpers set TensorFlow's options)."""
    import keras

    return keras.callbacks.Callback


def minutes(seconds):
    """'about 12 minutes', rounded to 5 from 10 minutes on; 'about 40 seconds' under a minute."""
    if seconds < 60:
        return say("speed.seconds", seconds=max(5, 5 * round(seconds / 5)))
    whole = seconds / 60
    rounded = max(1, round(whole)) if whole < 10 else 5 * round(whole / 5)
    return say("speed.minutes" if rounded != 1 else "speed.minute", minutes=rounded)


def estimate_message(estimate, profile=None, now=None, update=False):
    """The sentence the callback prints: how long the fit takes on this machine and when it ends."""
    end = time.localtime((time.time() if now is None else now) + estimate["remaining_s"])
    name = get_profile(profile).name
    text = say("speed.estimate_update" if update else "speed.estimate", epochs=estimate["epochs"], profile=name,
               duration=minutes(estimate["total_s"]), epoch_s=estimate["epoch_s"], end=time.strftime("%H:%M", end))
    return text if name == "quick" else f"{text} {say('speed.quick_hint')}"


class FitTimeEstimate(_callback_class()):
    """A Keras callback: after the second epoch, how long the whole fit takes on this machine and when it ends.

    The first epoch also traces the model (and fills caches), so the estimate is the first epoch's time plus, for
    every later epoch, the median of the later epochs so far (after the second epoch: the second's). It prints
    once, then again only when the later epochs move the total by more than a tenth (at most UPDATES times), so a
    slow second epoch is corrected without a line per epoch. `.estimate` keeps the last estimate printed
    (`epochs`, `first_epoch_s`, `epoch_s`, `total_s`, `remaining_s`, `after_epoch`) for the run's record,
    `.printed` every one printed, `.epoch_seconds` every epoch's time. Nothing is printed for a fit of one or
    two epochs: it would come too late to help.
    """

    UPDATES = 2

    def __init__(self, profile=None, clock=time.perf_counter, out=print):
        super().__init__()
        self.profile, self.clock, self.out = profile, clock, out
        self.estimate, self.epoch_seconds, self.printed = None, [], []

    def on_train_begin(self, logs=None):
        self.estimate, self.epoch_seconds, self.printed = None, [], []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = self.clock()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds.append(self.clock() - self._start)
        epochs, done = self.params.get("epochs") or 0, len(self.epoch_seconds)
        if done < 2 or done >= epochs:
            return
        first, later = self.epoch_seconds[0], statistics.median(self.epoch_seconds[1:])
        current = {"epochs": epochs, "first_epoch_s": first, "epoch_s": later,
                   "total_s": first + later * (epochs - 1), "remaining_s": later * (epochs - done), "after_epoch": done}
        if self.printed and (len(self.printed) > self.UPDATES
                             or abs(current["total_s"] / self.printed[-1]["total_s"] - 1) <= 0.1):
            return
        self.out(estimate_message(current, self.profile, update=bool(self.printed)))
        self.printed.append(current)
        self.estimate = current
