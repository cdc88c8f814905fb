"""The chapter's two convnets (section 5.2.3 and 5.2.5), as the notebooks show them."""
import keras
from keras import layers

from .config import IMAGE_SIZE

INPUT_SHAPE = IMAGE_SIZE + (3,)


def conv_stack():
    """Listing 5.5's feature extractor: four Conv2D/MaxPooling2D stages (32, 64, 128, 128 filters)."""
    stack = [keras.Input(shape=INPUT_SHAPE)]
    for filters in (32, 64, 128, 128):
        stack += [layers.Conv2D(filters, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2))]
    return stack


def build_baseline(output_dtype=None):
    """Listing 5.5: four Conv2D/MaxPooling2D stages, Flatten, Dense 512, one sigmoid unit.

    output_dtype="float32" keeps the sigmoid unit in float32 under a mixed-precision policy (the bench's bfloat16).
    """
    return keras.Sequential(conv_stack() + [
        layers.Flatten(),
        layers.Dense(512, activation="relu"),
        layers.Dense(1, activation="sigmoid", dtype=output_dtype),
    ])


def build_dropout_model(output_dtype=None):
    """Listing 5.13: the baseline plus Dropout(0.5) before the Dense 512 layer (output_dtype: as build_baseline)."""
    return keras.Sequential(conv_stack() + [
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(512, activation="relu"),
        layers.Dense(1, activation="sigmoid", dtype=output_dtype),
    ])


def compile_model(model, learning_rate=1e-4):
    """The book's compile step: RMSprop(learning_rate=1e-4), binary crossentropy, accuracy."""
    model.compile(loss="binary_crossentropy",
                  optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate),
                  metrics=["accuracy"])
    return model


def summary_table(model):
    """A plain-text per-layer summary (name, output shape, params) plus the total; deterministic."""
    rows = [("Layer (type)", "Output shape", "Params")]
    for layer in model.layers:
        shape = "(None, " + ", ".join(str(d) for d in layer.output.shape[1:]) + ")"
        rows.append((f"{layer.name} ({type(layer).__name__})", shape, f"{layer.count_params():,}"))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}" for a, b, c in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.append("-" * len(lines[0]))
    lines.append(f"Total params: {model.count_params():,}")
    return "\n".join(lines)
