"""How hard the data set is: a logistic regression on small thumbnails against the baseline convnet after a few epochs.

The synthetic set should be neither trivial (the linear model near 100%) nor unlearnable (the convnet at 50%).
"""
import contextlib
import sys

from helpers import config, models


def load_split_arrays(folder, size):
    """All images of a split folder, downscaled to size x size, as float arrays in [0, 1], and labels."""
    import numpy as np
    from PIL import Image

    xs, ys = [], []
    for label, cls in enumerate(config.CLASSES):
        for path in sorted((folder / cls).iterdir()):
            with Image.open(path) as img:
                xs.append(np.asarray(img.convert("RGB").resize((size, size), Image.BILINEAR), dtype=np.float32) / 255)
            ys.append(label)
    return np.stack(xs), np.array(ys)


def logistic_regression_accuracy(split_root, size=32):
    """Validation accuracy of a logistic regression on size x size pixels (standardised)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x_train, y_train = load_split_arrays(split_root / "train", size)
    x_val, y_val = load_split_arrays(split_root / "validation", size)
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=2000))
    clf.fit(x_train.reshape(len(x_train), -1), y_train)
    return {"train": float(clf.score(x_train.reshape(len(x_train), -1), y_train)),
            "validation": float(clf.score(x_val.reshape(len(x_val), -1), y_val)),
            "pixels": f"{size}x{size}x3", "train_images": len(x_train), "validation_images": len(x_val)}


def convnet_accuracy(split_root, epochs):
    """The baseline convnet's validation accuracy per epoch on the same split."""
    import keras

    from helpers import training

    keras.utils.set_random_seed(config.SEED)
    with contextlib.redirect_stdout(sys.stderr):
        train, validation = training.make_generators(20, directory=split_root)
    model = models.compile_model(models.build_baseline())
    history = model.fit(train, epochs=epochs, validation_data=validation, verbose=0).history
    return {"epochs": epochs, "val_accuracy": [round(v, 4) for v in history["val_accuracy"]],
            "train_accuracy": [round(v, 4) for v in history["accuracy"]],
            "train_images": train.samples, "validation_images": validation.samples}
