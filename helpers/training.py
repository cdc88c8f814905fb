"""Generators, training runs saved to disk, histories and test accuracy (sections 5.2.4-5.2.5)."""
import json
from pathlib import Path

from . import speed
from .config import IMAGE_SIZE, SEED, get_profile, models_dir, small_dataset_dir
from .files import replacing, write_json_atomic

# The notebook that trains each saved run, for messages when a run is missing.
RUN_NOTEBOOKS = {1: "04_baseline_convnet.ipynb", 2: "06_dropout_and_augmentation.ipynb"}

# Listing 5.11's augmentation, with shear_range as the angle the book meant: 0.2 radians is
# 11.5 degrees, and ImageDataGenerator has read shear_range in degrees since Keras 2.1.3.
BOOK_AUGMENTATION = dict(rotation_range=40, width_shift_range=0.2, height_shift_range=0.2,
                         shear_range=11.5, zoom_range=0.2, horizontal_flip=True, fill_mode="nearest")


def model_path(n):
    """Where run n's trained model is saved: <models>/cats_and_dogs_small_{n}.keras."""
    return models_dir() / f"cats_and_dogs_small_{n}.keras"


def history_path(n):
    """Where run n's training history is saved, next to the model."""
    return models_dir() / f"cats_and_dogs_small_{n}.history.json"


def split_dir(split, directory=None):
    """The folder of one split (train, validation or test), with a clear error if it is missing."""
    root = Path(directory) if directory is not None else small_dataset_dir()
    folder = root / split
    if not folder.is_dir() or not any(folder.iterdir()):
        raise FileNotFoundError(
            f"No {split!r} images in {folder}: prepare the data first "
            "(run notebook 03_dataset.ipynb or `make data`).")
    return folder


def rescaling_datagen():
    """ImageDataGenerator that only rescales pixels to [0, 1]: validation and test data."""
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    return ImageDataGenerator(rescale=1.0 / 255)


def augmenting_datagen(**overrides):
    """ImageDataGenerator with listing 5.11's augmentation (shear in degrees) plus rescaling."""
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    return ImageDataGenerator(rescale=1.0 / 255, **{**BOOK_AUGMENTATION, **overrides})


def flow(datagen, split, batch_size=20, shuffle=True, seed=SEED, directory=None):
    """datagen.flow_from_directory on one split: 150x150 RGB, binary labels (cats=0, dogs=1)."""
    return datagen.flow_from_directory(
        split_dir(split, directory), target_size=IMAGE_SIZE, batch_size=batch_size,
        class_mode="binary", shuffle=shuffle, seed=seed)


def make_generators(batch_size=None, augment=False, seed=SEED, directory=None):
    """Train and validation iterators as notebooks 04 and 06 make them; only the training data is ever augmented."""
    batch_size = batch_size or (get_profile().augmented_batch if augment else get_profile().baseline_batch)
    train_datagen = augmenting_datagen() if augment else rescaling_datagen()
    train = flow(train_datagen, "train", batch_size, shuffle=True, seed=seed, directory=directory)
    validation = flow(rescaling_datagen(), "validation", batch_size, shuffle=False, directory=directory)
    if augment:
        speed.transform_with_pillow(train)  # the same transforms and pixels as Keras', less CPU time
    return speed.decode_once(train), speed.decode_once(validation)  # each picture decoded once per run


def endless(iterator):
    """The batches of a finite iterator forever, in a new random order each pass (notebook 06 shows these lines)."""
    while True:
        for i in range(len(iterator)):
            yield iterator[i]
        iterator.on_epoch_end()


def _data_source():
    """The prepared data's source name, or None when there is none or its folder cannot be read."""
    from . import data

    try:
        return data.current_source()
    except OSError:
        return None


def save_history(n, history, **info):
    """Save run n's history (a keras History or dict of lists) and info as JSON; return the path."""
    history = getattr(history, "history", history)
    clean = {k: [float(v) for v in values] for k, values in history.items()}
    record = {"run": n, "history": clean, "epochs": len(next(iter(clean.values()), [])),
              "profile": get_profile().name, "source": _data_source(), **info}
    return write_json_atomic(history_path(n), record)


def load_record(n):
    """Run n's saved JSON record (history plus profile, source, test scores), or None."""
    path = history_path(n)
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def run_matches(n):
    """True when run n's saved record was made with the active profile on the prepared data's source."""
    record = load_record(n)
    return bool(record) and record.get("profile") == get_profile().name and record.get("source") == _data_source()


def load_history(n):
    """Run n's saved history as a dict of per-epoch lists (like History.history), or None."""
    record = load_record(n)
    return None if record is None else record["history"]


def update_record(n, **info):
    """Add fields (e.g. test scores) to run n's saved record."""
    record = load_record(n)
    if record is None:
        raise FileNotFoundError(missing_run_message(n))
    record.update(info)
    write_json_atomic(history_path(n), record)
    return record


def save_model(model, n):
    """Save model to model_path(n) through a temporary file, so a failed save keeps the old one."""
    path = model_path(n)
    with replacing(path) as tmp:
        model.save(tmp)
    return path


def save_run(model, history, n, **info):
    """Save run n's model and history side by side; return both paths."""
    return save_model(model, n), save_history(n, history, **info)


def missing_run_message(n):
    """What to do when run n has not been trained yet."""
    notebook = RUN_NOTEBOOKS.get(n, "the notebook that trains it")
    return (f"No saved model {model_path(n).name} in {models_dir()}: run {notebook} first "
            "(it trains the model and saves it with its history).")


def load_model(n):
    """Load run n's saved model, with a message naming the notebook to run if it is missing."""
    import keras

    if not model_path(n).exists():
        raise FileNotFoundError(missing_run_message(n))
    return keras.models.load_model(model_path(n))


def fit_and_save(model, train, validation, epochs, n, verbose="auto", **info):
    """model.fit for a number of epochs (steps left to Keras, its progress bar on), then save model and history."""
    history = model.fit(train, epochs=epochs, validation_data=validation, verbose=verbose)
    save_run(model, history, n, batch_size=train.batch_size, train_images=train.samples, **info)
    return history.history


def evaluate(model, split="test", batch_size=20, directory=None):
    """Loss and accuracy on a split (never augmented) as a dict."""
    iterator = flow(rescaling_datagen(), split, batch_size, shuffle=False, directory=directory)
    loss, accuracy = model.evaluate(iterator, verbose=0)
    return {"loss": float(loss), "accuracy": float(accuracy), "images": iterator.samples}


def class_of(path):
    """The class name of an image from its folder (cats or dogs)."""
    return Path(path).parent.name


def train_baseline(epochs=None, batch_size=None):
    """Train, save and test the baseline (run 1) as notebook 04 does; return its history dict."""
    from . import models

    profile = get_profile()
    train, validation = make_generators(batch_size or profile.baseline_batch)
    model = models.compile_model(models.build_baseline())
    history = fit_and_save(model, train, validation, epochs or profile.baseline_epochs, 1)
    update_record(1, test=evaluate(model))
    return history


def describe_run(n):
    """One line on how run n was trained: epochs, batch size, profile and data set."""
    record = load_record(n)
    if record is None:
        return missing_run_message(n)
    return (f"{record['epochs']} epochs, batch {record.get('batch_size', '?')}, "
            f"profile {record['profile']}, data {record.get('source') or 'unknown'}")


# The book's figures for these runs (section 5.2, real photos, full profile): the validation accuracy
# its curves reach (low, high) and after how many epochs. The one place these numbers are written.
BOOK_FIGURES = {1: {"val_accuracy": (0.70, 0.72), "epochs": 30},
                2: {"val_accuracy": (0.82, 0.82), "epochs": 100}}


def book_reference(n):
    """The book's figure for run n as text, e.g. 'val. accuracy about 0.70-0.72 after 30 epochs'."""
    figures = BOOK_FIGURES.get(n)
    if figures is None:
        return ""
    low, high = figures["val_accuracy"]
    span = f"{low:.2f}" if low == high else f"{low:.2f}-{high:.2f}"
    return f"val. accuracy about {span} after {figures['epochs']} epochs"


BOOK_REFERENCE = {n: book_reference(n) for n in BOOK_FIGURES}
# The book's own notebook (5.2), the last epoch's validation accuracy of each run: what the reference figures draw.
BOOK_NOTEBOOK_FINAL = {1: 0.724, 2: 0.844}


def results_table(runs):
    """A text table of saved runs: epochs, last/best validation accuracy, test accuracy, the book's figure."""
    header = ("run", "epochs", "val acc (last)", "val acc (best)", "test acc", "book (real photos)")
    rows = [header]
    for n, name in runs.items():
        record = load_record(n)
        if record is None:
            rows.append((name, "-", "-", "-", "-", f"not trained: run {RUN_NOTEBOOKS.get(n, '?')}"))
            continue
        val = record["history"].get("val_accuracy", [float("nan")])
        test = record.get("test", {}).get("accuracy")
        rows.append((name, str(record["epochs"]), f"{val[-1]:.3f}", f"{max(val):.3f}",
                     "-" if test is None else f"{test:.3f}", BOOK_REFERENCE.get(n, "")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(f"{c:<{w}}" for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


# Below this validation accuracy a cats-vs-dogs model counts as at chance (0.5 on balanced classes).
CHANCE_BELOW = 0.6


def chance_note(val_accuracy, profile_name, epochs):
    """One line saying the model is at chance (validation accuracy below CHANCE_BELOW), else None."""
    if not val_accuracy < CHANCE_BELOW:
        return None
    trained = f"{profile_name} profile" + ("" if epochs is None else f", {epochs} epochs")
    return f"validation accuracy {val_accuracy:.2f}: at chance, the model has not learned yet ({trained})"


def find_trained_model():
    """(path, description) of the best saved course model: dropout+augmentation, else baseline."""
    for n, what in ((2, "dropout + data augmentation (notebook 06)"), (1, "baseline (notebook 04)")):
        path = model_path(n)
        if path.is_file():
            return path, what
    return None, None
