"""Look inside a trained convnet (section 5.4): activations, filter patterns, Grad-CAM, the test split's worst errors.

Reading image files is helpers.images' job; accuracy and the confusion matrix come from sklearn.metrics.
"""
import functools
from pathlib import Path

import numpy as np

from . import images
from .config import CLASSES, IMAGE_SIZE
from .ops import dead_channels

FEATURE_LAYERS = ("Conv2D", "MaxPooling2D")


# --------------------------------------------------------------------------- inputs

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


# --------------------------------------------------------------------------- activations

def feature_layers(model, kinds=FEATURE_LAYERS):
    """The model's Conv2D and MaxPooling2D layers, in order."""
    return [layer for layer in model.layers if type(layer).__name__ in kinds]


def activation_model(model, layers=None):
    """A model from the input image to the outputs of the given layers (default: feature_layers)."""
    import keras

    layers = feature_layers(model) if layers is None else layers
    if not layers:
        raise ValueError("This model has no Conv2D or MaxPooling2D layers to look into.")
    return keras.Model(inputs=model.inputs[0], outputs=[layer.output for layer in layers])


def activations(model, image, layers=None):
    """Listing 5.27-5.28: {layer name: (h, w, channels) activation} for one preprocessed image."""
    layers = feature_layers(model) if layers is None else layers
    outputs = activation_model(model, layers)(np.asarray(image, "float32")[None], training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return {layer.name: np.asarray(out)[0] for layer, out in zip(layers, outputs)}


def activation_summary(acts):
    """Rows (layer, shape, channels, dead channels, % of values above zero) from activations()."""
    return [(name, a.shape, a.shape[-1], dead_channels(a), float((a > 0).mean() * 100))
            for name, a in acts.items()]


# --------------------------------------------------------------------------- filter patterns

def filter_patterns(model, layer_name, channels, steps=40, step_size=1.0, size=None, seed=0,
                    progress=True):
    """Listing 5.32-5.34: gradient ascent in input space, all channels at once; uint8 images.

    Each returned (h, w, 3) image is the input that most excites one channel of `layer_name`.
    """
    import tensorflow as tf
    from tqdm.auto import tqdm

    channels = list(channels)
    layer = model.get_layer(layer_name)
    extractor = activation_model(model, [layer])
    size = size or input_size(model)
    scale = 255.0 if rescales_inside(model) else 1.0
    rng = np.random.default_rng(seed)
    start = (rng.random((len(channels), size[0], size[1], 3)) * 0.2 + 0.4) * scale
    images = tf.Variable(start.astype("float32"))
    index = tf.constant(channels, dtype=tf.int32)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            out = extractor(images, training=False)
            out = out[0] if isinstance(out, (list, tuple)) else out
            picked = tf.einsum("nhwc,nc->nhw", out, tf.one_hot(index, out.shape[-1]))
            border = 2 if picked.shape[1] > 4 else 0  # the book drops the border pixels
            core = picked[:, border:picked.shape[1] - border, border:picked.shape[2] - border]
            loss = tf.reduce_sum(tf.reduce_mean(core, axis=[1, 2]))
        grads = tape.gradient(loss, images)
        norms = tf.sqrt(tf.reduce_mean(tf.square(grads), axis=[1, 2, 3], keepdims=True)) + 1e-5
        images.assign_add(grads / norms * step_size * scale)
        return loss

    for _ in tqdm(range(steps), desc=f"gradient ascent on {layer_name}", disable=not progress,
                  leave=False):
        step()
    return np.stack([deprocess(img) for img in images.numpy()])


def deprocess(image):
    """Listing 5.31: a float image to viewable uint8 (mean 0.5, std 0.1, clipped)."""
    image = np.asarray(image, dtype="float64")
    image = image - image.mean()
    image = image / (image.std() + 1e-5) * 0.1 + 0.5
    return (np.clip(image, 0, 1) * 255).astype("uint8")


# --------------------------------------------------------------------------- Grad-CAM

def last_conv_layer(model):
    """The name of the model's last Conv2D layer (where Grad-CAM looks)."""
    convs = feature_layers(model, kinds=("Conv2D",))
    if not convs:
        raise ValueError("This model has no Conv2D layer for Grad-CAM.")
    return convs[-1].name


def _forward_keeping(model, layer_name, x):
    """(output of layer_name, model output) for a batch, in one differentiable pass."""
    import keras

    if isinstance(model, keras.Sequential):
        # layer by layer: a loaded Sequential model's layers were called several times while it
        # was rebuilt, and their `.output` tensors need not connect to `model.outputs`
        kept = None
        for layer in model.layers:
            x = layer(x, training=False)
            kept = x if layer.name == layer_name else kept
        return kept, x
    grad_model = keras.Model(model.inputs[0], [model.get_layer(layer_name).output, model.outputs[0]])
    return grad_model(x, training=False)


def grad_cam(model, image, target="predicted", layer_name=None):
    """Section 5.4.3: Grad-CAM heatmap (h, w) in [0, 1] at the layer's resolution.

    target: "dog", "cat" or "predicted". The single sigmoid output is the dog probability p;
    the cat score is 1 - p. Channels are weighted by the mean gradient of the score.
    """
    import tensorflow as tf

    layer_name = layer_name or last_conv_layer(model)
    x = tf.constant(np.asarray(image, "float32")[None])
    with tf.GradientTape() as tape:
        conv_out, prob = _forward_keeping(model, layer_name, x)
        p = prob[0, 0]
        if target == "predicted":
            target = "dog" if float(p) >= 0.5 else "cat"
        if target not in ("dog", "cat"):
            raise ValueError(f"target must be 'dog', 'cat' or 'predicted', not {target!r}.")
        score = p if target == "dog" else 1.0 - p
    grads = tape.gradient(score, conv_out)[0]
    weights = tf.reduce_mean(grads, axis=(0, 1))
    cam = tf.nn.relu(tf.reduce_sum(conv_out[0] * weights, axis=-1)).numpy()
    peak = cam.max()
    return (cam / peak if peak > 0 else cam).astype("float32")


@functools.lru_cache(maxsize=None)
def _colour_table(cmap):
    """A (256, 3) uint8 lookup table of a matplotlib colour map."""
    import matplotlib

    return (matplotlib.colormaps[cmap](np.linspace(0, 1, 256))[:, :3] * 255).astype("uint8")


def colorize(values, cmap="jet"):
    """Values in [0, 1] (h, w) to uint8 RGB through a matplotlib colour map (a lookup, no figure)."""
    return _colour_table(cmap)[(np.clip(values, 0, 1) * 255).astype("uint8")]


def superimpose(image_uint8, heatmap, alpha=0.4):
    """Listing 5.43: the heatmap, upsampled and coloured, blended over the uint8 image."""
    from PIL import Image

    h, w = image_uint8.shape[:2]
    big = Image.fromarray((np.clip(heatmap, 0, 1) * 255).astype("uint8")).resize((w, h), Image.BILINEAR)
    colored = colorize(np.asarray(big) / 255.0).astype("float32")
    blend = colored * alpha + np.asarray(image_uint8, "float32")[..., :3] * (1 - alpha)
    return np.clip(blend, 0, 255).astype("uint8")


# --------------------------------------------------------------------------- judging the test split

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
