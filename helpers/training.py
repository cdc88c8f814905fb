"""Generators, fits and test accuracy (sections 5.2.4-5.2.5): the data fed as the book does, a fit saved as a run.

A fit saves its model and record through helpers.saved_runs; one interrupted midway resumes from its last finished epoch
through the callbacks of fit_callbacks (Keras' BackupAndRestore).
"""
import json
import math
import shutil
from pathlib import Path

from . import i18n
from .config import IMAGE_SIZE, SEED, get_profile, models_dir, small_dataset_dir
from .files import write_json_atomic
from .i18n import say
from .saved_runs import data_source, save_history, save_model, update_record

i18n.messages({
    "training.no_images": "No {split!r} images in {folder}: prepare the data first (run notebook 03_dataset.ipynb "
                          "or `make data`).",
    "training.chance": "validation accuracy {accuracy:.2f}: at chance, the model has not learned yet ({trained})",
    "training.chance_profile": "{profile} profile",
    "training.chance_epochs": "{profile} profile, {epochs} epochs",
    "training.resuming": "Resuming the interrupted fit from epoch {epoch} of {epochs} (its backup in {folder}).",
    "training.stale_backup": "A backup in {folder} was left by another fit (another profile, data, number of epochs "
                             "or model) or cannot be read: removed, training starts from epoch 1.",
})

# Listing 5.11's augmentation, with shear_range as the angle the book meant: 0.2 radians is
# 11.5 degrees, and ImageDataGenerator has read shear_range in degrees since Keras 2.1.3.
BOOK_AUGMENTATION = dict(rotation_range=40, width_shift_range=0.2, height_shift_range=0.2,
                         shear_range=11.5, zoom_range=0.2, horizontal_flip=True, fill_mode="nearest")


def split_dir(split, directory=None):
    """The folder of one split (train, validation or test), with a clear error if it is missing."""
    root = Path(directory) if directory is not None else small_dataset_dir()
    folder = root / split
    if not folder.is_dir() or not any(folder.iterdir()):
        raise FileNotFoundError(say("training.no_images", split=split, folder=folder))
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
    return train, validation


def endless(iterator):
    """The batches of a finite iterator forever, in a new random order each pass (notebook 06 shows these lines)."""
    while True:
        for i in range(len(iterator)):
            yield iterator[i]
        iterator.on_epoch_end()


def fit_and_save(model, train, validation, epochs, n, verbose="auto", **info):
    """model.fit for a number of epochs (steps left to Keras, its progress bar on), then save model and history."""
    history = model.fit(train, epochs=epochs, validation_data=validation, verbose=verbose)
    save_model(model, n)
    save_history(n, history, batch_size=train.batch_size, train_images=train.samples, **info)
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


# Below this validation accuracy a cats-vs-dogs model counts as at chance (0.5 on balanced classes).
CHANCE_BELOW = 0.6


def chance_note(val_accuracy, profile_name, epochs):
    """One line saying the model is at chance (validation accuracy below CHANCE_BELOW), else None."""
    if not val_accuracy < CHANCE_BELOW:
        return None
    trained = (say("training.chance_profile", profile=profile_name) if epochs is None
               else say("training.chance_epochs", profile=profile_name, epochs=epochs))
    return say("training.chance", accuracy=val_accuracy, trained=trained)


# --------------------------------------------------------------------------- interrupted fits resume

RESUME_LOG = "course_resume.json"  # in the backup folder: what the backup belongs to and the finished epochs' logs


def backup_dir(n):
    """The folder where run n's fit keeps its backup after every epoch (removed by Keras when the fit ends)."""
    return models_dir() / f"cats_and_dogs_small_{n}.backup"


def fit_callbacks(n, *callbacks):
    """The callbacks for run n's fit: `callbacks`, then a backup after every epoch in backup_dir(n).

    The backup is Keras' own keras.callbacks.BackupAndRestore (keeping the previous epoch's too, in case a write is
    cut short): when the fit is interrupted (a kernel restart, a closed laptop, a lost Colab runtime), running the
    same cells again resumes it from the last finished epoch, and the history it returns holds every epoch. A backup
    made for another profile, data source, number of epochs or model is removed, and the fit starts from epoch 1.
    When the fit ends, Keras deletes the backup, so the next run trains from the start.
    """
    import keras

    folder = backup_dir(n)
    return [*callbacks, _resume_log_class()(n, folder),
            keras.callbacks.BackupAndRestore(str(folder), double_checkpoint=True)]


def _resume_log_class():
    """ResumeLog, made when first needed (Keras loads only then)."""
    import keras

    class ResumeLog(keras.callbacks.Callback):
        """Before BackupAndRestore reads its backup: keep it only if it was made by this run's settings and model; at
        each epoch's end: log the epoch; at the fit's end: put the logs of the epochs done before the interruption in
        front of the History's, so the returned history is the whole fit's."""

        def __init__(self, n, folder, out=print):
            super().__init__()
            self.n, self.folder, self.out = n, Path(folder), out
            self.stamp, self.logs, self.ran = None, {}, []

        def on_train_begin(self, logs=None):
            self.stamp = {"run": self.n, "profile": get_profile().name, "source": data_source(),
                          "epochs": self.params.get("epochs"), "steps": self.params.get("steps"),
                          "weights": [list(w.shape) for w in self.model.weights]}
            self.logs, self.ran = {}, []
            if not self.folder.exists():
                return
            saved, done = self._read_backup()
            if saved is not None and saved.get("stamp") == self.stamp and 0 < done < (self.stamp["epochs"] or 0):
                self.logs = {int(k): v for k, v in saved.get("logs", {}).items() if int(k) < done}
                if len(self.logs) == done:
                    self.out(say("training.resuming", epoch=done + 1, epochs=self.stamp["epochs"],
                                 folder=self.folder))
                    return
            shutil.rmtree(self.folder, ignore_errors=True)
            self.logs = {}
            self.out(say("training.stale_backup", folder=self.folder))

        def _read_backup(self):
            """(this log, epochs BackupAndRestore finished) from the backup folder; (None, 0) if unreadable."""
            try:
                saved = json.loads((self.folder / RESUME_LOG).read_text(encoding="utf-8"))
                done = json.loads((self.folder / "training_metadata.json").read_text(encoding="utf-8"))["epoch"]
            except (OSError, ValueError, RecursionError, KeyError, TypeError):
                return None, 0
            ok = isinstance(saved, dict) and isinstance(saved.get("logs"), dict) and isinstance(done, int)
            return (saved, done) if ok else (None, 0)

        def on_epoch_end(self, epoch, logs=None):
            self.ran.append(epoch)
            self.logs[epoch] = {k: float(v) for k, v in (logs or {}).items()}
            self.folder.mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.folder / RESUME_LOG, {"stamp": self.stamp, "logs": self.logs})

        def on_train_end(self, logs=None):
            history = getattr(self.model, "history", None)
            if not self.ran or history is None or list(getattr(history, "epoch", [])) != self.ran:
                return
            earlier = [e for e in sorted(self.logs) if e < self.ran[0]]
            if not earlier:
                return
            for key, values in history.history.items():
                values[:0] = [self.logs[e].get(key, math.nan) for e in earlier]
            history.epoch[:0] = earlier

    return ResumeLog
