"""Look inside a trained convnet (section 5.4): activations, filter patterns and Grad-CAM.

Preparing image files for a model and judging its answers is helpers.predictions' job.
"""
import numpy as np

from .images import colorize
from .ops import dead_channels
from .predictions import input_size, rescales_inside

FEATURE_LAYERS = ("Conv2D", "MaxPooling2D")


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


def superimpose(image_uint8, heatmap, alpha=0.4):
    """Listing 5.43: the heatmap, upsampled and coloured, blended over the uint8 image."""
    from PIL import Image

    h, w = image_uint8.shape[:2]
    big = Image.fromarray((np.clip(heatmap, 0, 1) * 255).astype("uint8")).resize((w, h), Image.BILINEAR)
    colored = colorize(np.asarray(big), 0, 255, cmap="jet").astype("float32")
    blend = colored * alpha + np.asarray(image_uint8, "float32")[..., :3] * (1 - alpha)
    return np.clip(blend, 0, 255).astype("uint8")
