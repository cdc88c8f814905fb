"""A model's answers on image files: inputs prepared the way it was trained, dog probabilities, the test split judged.

Reading and resizing files is helpers.images' job; accuracy and the confusion matrix come from sklearn.metrics.
"""
from pathlib import Path

import numpy as np

from . import images
from .config import CLASSES, IMAGE_SIZE


def input_size(model):
    """The (height, width) a model takes; IMAGE_SIZE when the model leaves it open."""
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 4:
        raise ValueError(f"This model takes inputs of shape {shape[1:]}, not images: "
                         "use a convnet trained on (height, width, 3) images, such as "
                         "the ones notebooks 04, 06 and 08 save.")
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
    """One image file as the float32 (h, w, 3) array the model was trained on (helpers.images.load_image).

    Resizes the way training did: nearest neighbour and 1/255 scaling for ImageDataGenerator models
    (notebooks 04, 06), bilinear and raw 0-255 pixels for models with a Rescaling layer (notebook 08).
    orient=True first applies the EXIF orientation (a learner's own photos).
    """
    size = size or (input_size(model) if model is not None else IMAGE_SIZE)
    return images.load_image(path, size, pipeline(model), orient=orient)


def to_display(image, model=None):
    """A preprocessed image back to uint8 pixels for showing."""
    return images.to_display(image, pipeline(model))


def split_images(split="test", model=None, limit=None, root=None):
    """(paths, labels) of a split's images, cats=0 and dogs=1, sorted; limit caps each class."""
    from . import data

    root = Path(root) if root else data.require_split()
    paths, labels = [], []
    for label, cls in enumerate(CLASSES):
        files = sorted(p for p in (root / split / cls).iterdir() if p.is_file())
        files = files[:limit] if limit else files
        paths += files
        labels += [label] * len(files)
    if not paths:
        raise FileNotFoundError(f"No images in {root / split}: prepare the data first "
                                "(notebook 03 or `make data`).")
    return paths, np.array(labels)


def predict_probabilities(model, paths, batch_size=32, errors=None, orient=False):
    """Dog probabilities for image files, preprocessed like training, in batches.

    Unreadable files raise, unless an `errors` dict is given: then they get NaN and
    errors[index] holds the message. orient: apply EXIF orientation (see load_image).
    """
    probs = np.full(len(paths), np.nan, dtype="float32")
    for start in range(0, len(paths), batch_size):
        images, kept = [], []
        for i in range(start, min(start + batch_size, len(paths))):
            try:
                images.append(load_image(paths[i], model, orient=orient))
                kept.append(i)
            except (FileNotFoundError, ValueError, OSError, MemoryError) as err:
                if errors is None:
                    raise
                errors[i] = str(err)
        if images:
            probs[kept] = np.asarray(model.predict(np.stack(images), verbose=0)).reshape(-1)
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
