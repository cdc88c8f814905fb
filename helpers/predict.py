"""Use a trained model: cat or dog, with a probability, for your own image files.

    python -m helpers predict my_cat.jpg holiday/*.png [--model models/cats_and_dogs_small_2.keras]
"""
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from . import predictions

# What keras.models.load_model raises for a file that is not a saved model (not a zip, no config, unknown
# layer classes, an HDF5 file it cannot open, a cut-short archive).
NOT_A_MODEL = (ValueError, KeyError, TypeError, OSError, EOFError, zipfile.BadZipFile)


class ModelError(Exception):
    """A model that cannot be used for cat/dog prediction (missing, unreadable, wrong shape)."""


@dataclass
class Prediction:
    """One file's answer: label and its probability, or the error that stopped it."""

    path: str
    label: str = None  # "cat" or "dog"
    probability: float = None  # probability of `label`
    dog_probability: float = None  # the model's raw sigmoid output
    error: str = None

    def line(self):
        """One printable line for this file."""
        if self.error:
            return f"{self.path}: error: {self.error}"
        return f"{self.path}: {self.label} (probability {self.probability:.3f})"


def default_model_path():
    """The dropout+augmentation model if saved, else the baseline, else the former's path."""
    from . import training

    found, _ = training.find_trained_model()
    return found or training.model_path(2)


def check_model(model):
    """Raise ModelError unless the model takes (h, w, 3) images and gives one probability."""
    shape = tuple(model.inputs[0].shape)[1:]
    if len(shape) != 3 or shape[-1] != 3:
        raise ModelError(f"This model's input shape is {shape}, but cat/dog photos are "
                         "(height, width, 3) colour images: use a model saved by notebook 04, "
                         "06 or 08 (cats_and_dogs_small_N.keras).")
    out = tuple(model.outputs[0].shape)[1:]
    if out not in ((1,), ()):
        raise ModelError(f"This model's output shape is {out}, but a cat/dog model gives one "
                         "dog probability (a single sigmoid unit): use a model saved by "
                         "notebook 04, 06 or 08.")
    return model


def load_model(path=None):
    """Load and check a saved .keras model; a clear ModelError if missing or unusable."""
    import keras

    path = Path(path) if path else default_model_path()
    if not path.is_file():
        raise ModelError(f"No trained model at {path}: run notebook 06 (or 04, or 08) to train "
                         "and save one, or pass --model PATH to a saved .keras file.")
    try:
        model = keras.models.load_model(path, compile=False)
    except NOT_A_MODEL as err:
        raise ModelError(f"Could not load {path} as a Keras model ({type(err).__name__}: "
                         f"{str(err).splitlines()[0] if str(err) else ''}); pass a .keras "
                         "file saved by model.save().") from None
    return check_model(model)


def to_prediction(path, dog_probability):
    """A Prediction from the model's dog probability (>= 0.5 is a dog)."""
    p = float(dog_probability)
    label = "dog" if p >= 0.5 else "cat"
    return Prediction(str(path), label, p if label == "dog" else 1.0 - p, p)


def predict_files(paths, model=None, model_path=None, batch_size=32):
    """Predictions for image files, in order; unreadable files get an error, the rest an answer.

    Each file is read as 8-bit RGB whatever its mode (16-bit, palette, CMYK, alpha), turned upright
    by its EXIF orientation, and preprocessed the way the model was trained.
    """
    model = check_model(model) if model is not None else load_model(model_path)
    paths, errors = list(paths), {}
    probs = predictions.predict_probabilities(model, paths, batch_size, errors=errors, orient=True)
    return [Prediction(str(path), error=_without_path(errors[i], path)) if i in errors
            else to_prediction(path, probs[i]) for i, path in enumerate(paths)]


def _without_path(message, path):
    """An error message without the leading 'path: ' (Prediction.line prints the path once)."""
    prefix = f"{path}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def add_subcommand(subparsers):
    """Register `predict IMAGE [IMAGE ...] [--model PATH]` on the CLI's subparsers."""
    cmd = subparsers.add_parser("predict", help="cat or dog, with a probability, for image files")
    cmd.add_argument("images", nargs="+", metavar="IMAGE", help="image files (JPEG, PNG, ...)")
    cmd.add_argument("--model", default=None, metavar="PATH",
                     help="a saved .keras model (default: the models folder's "
                          "cats_and_dogs_small_2.keras, else _1)")
    cmd.set_defaults(func=run)
    return cmd


def run(args):
    """The `predict` command: one line per file; exit 1 if any file failed, 2 if the model did."""
    try:
        model = load_model(args.model)
    except ModelError as err:
        print(f"predict: {err}", file=sys.stderr)
        return 2
    failed = 0
    for result in predict_files(args.images, model=model):
        print(result.line(), file=sys.stderr if result.error else sys.stdout)
        failed += bool(result.error)
    return 1 if failed else 0

