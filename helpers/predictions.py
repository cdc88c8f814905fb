"""A model's answers on image files: inputs prepared the way it was trained, dog probabilities, the test split judged,
and cat or dog with a probability for your own files (the `predict` command of helpers/__main__.py).

    python -m helpers predict my_cat.jpg holiday/*.png [--model models/cats_and_dogs_small_2.keras]

Reading and resizing files is helpers.images' job; accuracy and the confusion matrix come from sklearn.metrics.
"""
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import i18n, images
from .config import CLASSES, IMAGE_SIZE
from .i18n import say

# What keras.models.load_model raises for a file that is not a saved model (not a zip, no config, unknown
# layer classes, an HDF5 file it cannot open, a cut-short archive).
NOT_A_MODEL = (ValueError, KeyError, TypeError, OSError, EOFError, zipfile.BadZipFile)

# What a notebook cell can show from here (notebook 07 judges the test split and your files with its own model); the
# `predict` command's own messages (load_classifier, Prediction.line) stay English, as the command line does.
i18n.messages({
    "predictions.not_images": "This model takes inputs of shape {shape}, not images: use a convnet trained on "
                              "(height, width, 3) images, such as the ones notebooks 04, 06 and 08 save.",
    "predictions.no_images": "No images in {folder}: prepare the data first (notebook 03 or `make data`).",
    "predictions.input_shape": "This model's input shape is {shape}, but cat/dog photos are (height, width, 3) colour "
                               "images: use a model saved by notebook 04, 06 or 08 (cats_and_dogs_small_N.keras).",
    "predictions.output_shape": "This model's output shape is {shape}, but a cat/dog model gives one dog probability "
                                "(a single sigmoid unit): use a model saved by notebook 04, 06 or 08.",
})


def input_size(model):
    """The (height, width) a model takes; IMAGE_SIZE when the model leaves it open."""
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 4:
        raise ValueError(say("predictions.not_images", shape=shape[1:]))
    h, w = shape[1], shape[2]
    return (h or IMAGE_SIZE[0], w or IMAGE_SIZE[1])


def rescales_inside(model):
    """True when the model has its own Rescaling layer (takes 0-255 pixels, notebook 08's way)."""
    return any(type(layer).__name__ == "Rescaling" for layer in _flat_layers(model))


def _flat_layers(model):
    """Every layer of a model, nested Sequential/Functional blocks opened up, in order."""
    out = []
    for layer in model.layers:
        out.append(layer)
        if hasattr(layer, "layers"):
            out.extend(_flat_layers(layer))
    return out


def pipeline(model):
    """The pipeline a model was trained with (helpers.images): "dataset" with a Rescaling layer, else "generator"."""
    return "dataset" if model is not None and rescales_inside(model) else "generator"


def load_image(path, model=None, size=None, orient=False):
    """One image file as the float32 (h, w, 3) array the model was trained on (helpers.images.model_input).

    Resizes the way training did: nearest neighbour and 1/255 scaling for ImageDataGenerator models
    (notebooks 04, 06), bilinear and raw 0-255 pixels for models with a Rescaling layer (notebook 08).
    orient=True first applies the EXIF orientation (a learner's own photos).
    """
    size = size or (input_size(model) if model is not None else IMAGE_SIZE)
    return images.model_input(path, size, pipeline(model), orient=orient)


def to_display(image, model=None):
    """A preprocessed image back to uint8 pixels for showing."""
    return images.display_array(image, pipeline(model))


def split_images(split="test", model=None, limit=None, root=None):
    """(paths, labels) of a split's images, cats=0 and dogs=1, sorted; limit caps each class."""
    from . import data

    root = Path(root) if root else data.require_split()
    paths, labels = [], []
    for label, cls in enumerate(CLASSES):
        files = sorted(data.split_photos(root / split / cls))  # photos only: no .DS_Store, Thumbs.db, ...
        files = files[:limit] if limit else files
        paths += files
        labels += [label] * len(files)
    if not paths:
        raise FileNotFoundError(say("predictions.no_images", folder=root / split))
    return paths, np.array(labels)


def predict_probabilities(model, paths, batch_size=32, errors=None, orient=False):
    """Dog probabilities for image files, preprocessed like training, in batches.

    Unreadable files raise, unless an `errors` dict is given: then they get NaN and
    errors[index] holds the message. orient: apply EXIF orientation (see load_image).
    """
    probs = np.full(len(paths), np.nan, dtype="float32")
    for start in range(0, len(paths), batch_size):
        batch, kept = [], []
        for i in range(start, min(start + batch_size, len(paths))):
            try:
                batch.append(load_image(paths[i], model, orient=orient))
                kept.append(i)
            except (FileNotFoundError, ValueError, OSError, MemoryError) as err:
                if errors is None:
                    raise
                errors[i] = str(err)
        if batch:
            probs[kept] = np.asarray(model.predict(np.stack(batch), verbose=0)).reshape(-1)
    return probs


def most_confident_wrong(paths, labels, probs, n=6, threshold=0.5):
    """The n misclassified images the model was surest about: [(path, true class, dog prob)]."""
    labels, probs = np.asarray(labels), np.asarray(probs)
    wrong = np.flatnonzero((probs >= threshold).astype(int) != labels)
    confidence = np.abs(probs[wrong] - 0.5)
    order = wrong[np.argsort(-confidence, kind="stable")][:n]
    return [(paths[i], CLASSES[labels[i]], float(probs[i])) for i in order]


def pick_examples(model, paths, labels, per_class=2, look_at=12):
    """The first per_class images of each class (0, 1) the model gets right among the first look_at; else the first."""
    chosen = []
    for cls in (0, 1):
        of_class = [p for p, label in zip(paths, labels) if label == cls][:look_at]
        probabilities = predict_probabilities(model, of_class)
        right = [p for p, prob in zip(of_class, probabilities) if (prob >= 0.5) == bool(cls)]
        chosen += (right + [p for p in of_class if p not in right])[:per_class]
    return chosen


# --------------------------------------------------------------------------- your own files (`predict`)

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
    from . import saved_runs

    found, _ = saved_runs.find_trained_model()
    return found or saved_runs.model_path(2)


def check_model(model):
    """Raise ModelError unless the model takes (h, w, 3) images and gives one probability."""
    shape = tuple(model.inputs[0].shape)[1:]
    if len(shape) != 3 or shape[-1] != 3:
        raise ModelError(say("predictions.input_shape", shape=shape))
    out = tuple(model.outputs[0].shape)[1:]
    if out not in ((1,), ()):
        raise ModelError(say("predictions.output_shape", shape=out))
    return model


# The notebook that saves each course model (models/cats_and_dogs_small_N.keras), to say which one re-makes it.
SAVED_BY = {"cats_and_dogs_small_1.keras": "04_baseline_convnet.ipynb",
            "cats_and_dogs_small_2.keras": "06_dropout_and_augmentation.ipynb",
            "cats_and_dogs_small_8.keras": "08_modern_keras_pipeline.ipynb"}
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"  # a legacy .h5 model file starts with these bytes


def remake_hint(path):
    """How to get a usable model instead of the file at path: the notebook that saves it, or --model."""
    notebook = SAVED_BY.get(Path(path).name)
    if notebook:
        return f"run notebook {notebook} again to re-make it, or pass --model PATH to another saved .keras file"
    return ("pass --model PATH to a .keras file saved by model.save(), or run notebook 06 (or 04, or 08) "
            "to train and save one")


def damage(path):
    """Why the file at path cannot be a saved Keras model, judged from its bytes; None when it may be one."""
    size = path.stat().st_size
    if size == 0:
        return "is empty (0 bytes)"
    with open(path, "rb") as f:
        if f.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE:
            return None
    if not zipfile.is_zipfile(path):  # a .keras file is a zip archive; a cut-short one has lost its directory
        return f"is not a complete .keras archive ({size:,} bytes: cut short, overwritten or not a model)"
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
        return f"is a damaged .keras archive ({type(err).__name__}: {err})"
    return None if bad is None else f"is a damaged .keras archive ({bad} fails its checksum)"


def load_classifier(path=None):
    """Load and check a saved .keras cat/dog model (default: default_model_path()); a clear ModelError if unusable:
    missing, not a regular file, damaged (cut short: the notebook that re-makes it is named), or of the wrong shape."""
    import keras

    path = Path(path) if path else default_model_path()
    if path.exists() and not path.is_file():
        kind = "a directory" if path.is_dir() else "not a regular file (a pipe, socket or device)"
        raise ModelError(f"The model {path} is {kind}: pass --model PATH to a saved .keras file.")
    if not path.is_file():
        raise ModelError(f"No trained model at {path}: run notebook 06 (or 04, or 08) to train "
                         "and save one, or pass --model PATH to a saved .keras file.")
    try:
        problem = damage(path)
    except OSError as err:
        raise ModelError(f"Could not read the model {path} ({err.strerror or err}): check the file's "
                         "permissions, or pass --model PATH to another saved .keras file.") from None
    if problem:
        raise ModelError(f"Could not load {path}: the model file {problem}; {remake_hint(path)}.")
    try:
        model = keras.models.load_model(path, compile=False)
    except NOT_A_MODEL as err:
        detail = str(err).splitlines()[0] if str(err) else ""
        raise ModelError(f"Could not load {path}: the model file is damaged or not a Keras model "
                         f"({type(err).__name__}: {detail}); {remake_hint(path)}.") from None
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
    model = check_model(model) if model is not None else load_classifier(model_path)
    paths, errors = list(paths), {}
    probs = predict_probabilities(model, paths, batch_size, errors=errors, orient=True)
    return [Prediction(str(path), error=_without_path(errors[i], path)) if i in errors
            else to_prediction(path, probs[i]) for i, path in enumerate(paths)]


def _without_path(message, path):
    """An error message without the leading 'path: ' (Prediction.line prints the path once)."""
    prefix = f"{path}: "
    return message[len(prefix):] if message.startswith(prefix) else message
