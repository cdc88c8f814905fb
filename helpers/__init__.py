"""Helpers for the chapter 5 notebooks: the plumbing the notebooks do not need to show."""
import os

from . import config, i18n
from .i18n import say

# Before TensorFlow is imported anywhere: oneDNN kernels, which TensorFlow leaves off on many CPUs,
# trained the baseline 2-3 times faster in `make bench` (benchmarks/README.md). TF_ENABLE_ONEDNN_OPTS=0 opts out.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

i18n.messages({
    "banner.line": "Profile: {profile} ({description}) | data: {source} | TensorFlow {tensorflow}, Keras {keras} | "
                   "device: {device}{onednn}",
    "banner.not_prepared": "not prepared yet (run notebook 03 or `make data`)",
    "banner.unknown": "unknown",
    "banner.onednn": "(oneDNN on)",
    **{f"banner.profile.{name}": profile.description for name, profile in config.PROFILES.items()},
})


def setup_notebook(seed=None, lang=None):
    """Seed everything, set the plot style and print one banner line; the first call of every notebook.

    lang="ko" (the Korean notebooks) selects the language of the course's messages for this kernel (COURSE_LANG).
    """
    from . import colab, quiet

    if lang is not None:
        os.environ["COURSE_LANG"] = config.language(lang)
    colab.bootstrap()  # on Google Colab only: install the pinned requirements, prepare the photos
    quiet.import_tensorflow()  # without the log lines TensorFlow writes before its logging is set up
    config.set_seed(seed)
    try:
        from . import plots
        plots.set_style()
    except ImportError:  # plotting is optional for the command line
        pass
    print(banner())


def banner():
    """One line: profile, data source, TensorFlow/Keras versions and device, in the learner's language."""
    import keras
    import tensorflow as tf

    profile = config.get_profile()
    try:
        from . import data
        source = data.current_source() or say("banner.not_prepared")
    except OSError:  # a data folder that cannot be read: the banner must never stop a notebook
        source = say("banner.unknown")
    gpus = tf.config.list_physical_devices("GPU")
    device = f"GPU x{len(gpus)}" if gpus else "CPU"
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "")
    return say("banner.line", profile=profile.name, description=profile_description(profile), source=source,
               tensorflow=tf.__version__, keras=keras.__version__, device=device,
               onednn=" " + say("banner.onednn") if onednn == "1" and not gpus else "")


def profile_description(profile):
    """A profile's description in the learner's language (config's English for a profile without a message)."""
    key = f"banner.profile.{profile.name}"
    return say(key) if key in i18n.MESSAGES else profile.description
