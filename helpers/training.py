"""Generators, training runs saved to disk, histories and test accuracy (sections 5.2.4-5.2.5).

A run n is a pair in the models folder: the model (cats_and_dogs_small_n.keras, saved by the notebook) and its
record (cats_and_dogs_small_n.history.json: the history, how it was trained, and the model file's size and SHA-256),
written atomically after the model. The two are used together only when the record is readable and describes that
very file (run_problem says what is wrong otherwise); a fit interrupted midway resumes from its last finished epoch
through the callbacks of fit_callbacks (Keras' BackupAndRestore).
"""
import errno
import json
import math
import re
import shutil
import zipfile
from pathlib import Path

from . import book
from .config import IMAGE_SIZE, SEED, get_profile, models_dir, small_dataset_dir
from .files import replacing, sha256_file, write_json_atomic

# The notebook that trains each saved run, for messages when a run is missing.
RUN_NOTEBOOKS = {1: "04_baseline_convnet.ipynb", 2: "06_dropout_and_augmentation.ipynb",
                 8: "08_modern_keras_pipeline.ipynb"}
RUN_FILE = re.compile(r"^cats_and_dogs_small_(\d{1,3})\.(keras|history\.json|backup)$")


class RunRecordError(ValueError):
    """A saved run whose record cannot be read, or cannot be written; the message names the file and the fix."""

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
    return train, validation


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


def run_notebook(n):
    """The notebook that trains run n, for messages."""
    return RUN_NOTEBOOKS.get(n, "the notebook that trains it")


def write_problem(err, path):
    """One line for an OSError while writing path: what happened and the fix (free space, another folder)."""
    code = getattr(err, "errno", None)
    if code in (errno.ENOSPC, errno.EDQUOT):
        free = ""
        try:
            free = f", {shutil.disk_usage(path.parent).free / 1e6:,.0f} MB free"
        except OSError:
            pass
        what = f"the disk is full{free}"
    else:
        what = err.strerror or str(err)
    return (f"Could not write {path} ({what}): free some space there (or set COURSE_MODELS_DIR to a folder on "
            "another disk), then run this cell again; nothing half-written was kept.")


def _fingerprint(n):
    """{'model_bytes', 'model_sha256'} of run n's saved model file; RunRecordError if it is missing or cut short."""
    model = model_path(n)
    if not model.is_file():
        raise RunRecordError(f"No saved model {model}: save it first (the listing's model.save cell), then run this "
                             "cell to record its run.")
    size = model.stat().st_size
    if model.suffix == ".keras" and not zipfile.is_zipfile(model):
        raise RunRecordError(f"{model} is not a complete saved model ({size:,} bytes: cut short, for example by a "
                             "full disk): free some space, run the listing's model.save cell again, then this cell.")
    return {"model_bytes": size, "model_sha256": _model_hash(model)}


_HASHES = {}  # (path, size, modification time) -> SHA-256, so pairing the same file again reads it once


def _model_hash(path):
    """The SHA-256 of a model file, remembered while its size and modification time stay the same."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _HASHES:
        _HASHES[key] = sha256_file(path)
    return _HASHES[key]


def _write_record(n, record):
    """Write run n's record atomically; a disk error becomes one RunRecordError line naming the file and the fix."""
    path = history_path(n)
    try:
        return write_json_atomic(path, record)
    except OSError as err:
        raise RunRecordError(write_problem(err, path)) from None


def save_history(n, history, **info):
    """Save run n's record next to its model, atomically, after the model was saved; return the path.

    The record: the history (a keras History or dict of lists), the profile, the data's source, the model file it
    belongs to (model_path(n)'s name, size and SHA-256) and info (batch_size, steps_per_epoch, the fit-time
    estimate, ...).
    """
    history = getattr(history, "history", history)
    clean = {k: [float(v) for v in values] for k, values in history.items()}
    record = {"run": n, "model": model_path(n).name, **_fingerprint(n), "history": clean,
              "epochs": len(next(iter(clean.values()), [])), "profile": get_profile().name,
              "source": _data_source(), **info}
    return _write_record(n, record)


def _number(value):
    """True for an int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def record_damage(record):
    """What is wrong with a parsed record's fields, in a few words; None when they have the types the course reads."""
    if not isinstance(record, dict):
        return f"a JSON {type(record).__name__} instead of an object"
    history = record.get("history")
    if not isinstance(history, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and all(_number(x) for x in v) for k, v in history.items()):
        return "its history is not lists of numbers per metric"
    checks = {"epochs": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
              "profile": lambda v: isinstance(v, str), "model": lambda v: isinstance(v, str)}
    optional = {"source": lambda v: v is None or isinstance(v, str),
                "model_bytes": lambda v: isinstance(v, int) and not isinstance(v, bool),
                "model_sha256": lambda v: isinstance(v, str),
                "test": lambda v: isinstance(v, dict) and _number(v.get("accuracy", 0.0))}
    for key, ok in checks.items():
        if key not in record or not ok(record[key]):
            return f"its {key!r} is missing or of the wrong type"
    for key, ok in optional.items():
        if key in record and not ok(record[key]):
            return f"its {key!r} is of the wrong type"
    return None


def load_record(n):
    """Run n's saved JSON record (history plus profile, source, model checksum, test scores), or None if none is saved.

    A record that cannot be read, is not JSON (cut short, edited) or holds the wrong types raises RunRecordError:
    one line naming the file and the notebook to run again.
    """
    path = history_path(n)
    if not path.exists():
        return None
    fix = f"run {run_notebook(n)} again to train and save run {n} (or delete that file)"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise RunRecordError(f"Could not read the saved record {path} ({err.strerror or err}): {fix}.") from None
    except (ValueError, RecursionError):  # JSONDecodeError, bad UTF-8, absurd nesting
        raise RunRecordError(f"The saved record {path} is damaged (not complete JSON: cut short or edited): "
                             f"{fix}.") from None
    damage = record_damage(record)
    if damage:
        raise RunRecordError(f"The saved record {path} is damaged ({damage}): {fix}.")
    return record


def run_problem(n):
    """None when run n's model and record are both saved and the record describes that model file; else one line:
    a damaged record, a model without its record, a record without its model, or a model the record does not describe
    (saved by another run, or the record of the new model was never written), with the notebook to run again."""
    model, path = model_path(n), history_path(n)
    try:
        record = load_record(n)
    except RunRecordError as err:
        return str(err)
    again = f"run {run_notebook(n)} again to train and save both"
    if record is None:
        if not model.exists():
            return missing_run_message(n)
        return (f"{model} has no record of its run ({path.name} is missing: the save was interrupted or the record "
                f"deleted), so it is not used as run {n}: {again}.")
    if not model.is_file():
        return f"{path} records run {n}, but its model {model.name} is missing: {again}."
    size = model.stat().st_size
    if record["model"] != model.name or "model_sha256" not in record or "model_bytes" not in record:
        why = "the record holds no size and SHA-256 of its model (saved by an older version of the course)"
    elif record["model_bytes"] != size:
        why = f"the model file has {size:,} bytes, the record says {record['model_bytes']:,}"
    elif record["model_sha256"] != _model_hash(model):
        why = "same size, different contents (SHA-256)"
    else:
        return None
    return (f"{model} is not the model its record {path.name} describes ({why}): it was saved by another run, or "
            f"its own record was never written; {again}.")


def paired_record(n):
    """Run n's record when it describes the saved model file (run_problem(n) is None), else None."""
    return None if run_problem(n) else load_record(n)


def run_matches(n):
    """True when run n's model and record belong together (run_problem) and the run was made with the active profile
    on the prepared data's source; describe_run(n) says why not."""
    record = paired_record(n)
    return bool(record) and record.get("profile") == get_profile().name and record.get("source") == _data_source()


def load_history(n):
    """Run n's saved history as a dict of per-epoch lists (like History.history), or None; RunRecordError if damaged."""
    record = load_record(n)
    return None if record is None else record["history"]


def update_record(n, **info):
    """Add fields (e.g. test scores) to run n's saved record."""
    record = load_record(n)
    if record is None:
        raise FileNotFoundError(missing_run_message(n))
    record.update(info)
    _write_record(n, record)
    return record


def save_model(model, n):
    """Save model to model_path(n) through a temporary file, so a failed save keeps the old one."""
    path = model_path(n)
    try:
        with replacing(path) as tmp:
            model.save(tmp)
    except OSError as err:
        raise RunRecordError(write_problem(err, path)) from None
    return path


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


def describe_run(n):
    """One line on how run n was trained: epochs, batch size, profile and data set; else what is wrong (run_problem)."""
    problem = run_problem(n)
    if problem:
        return problem
    record = load_record(n)
    return (f"{record['epochs']} epochs, batch {record.get('batch_size', '?')}, "
            f"profile {record['profile']}, data {record.get('source') or 'unknown'}")


def book_reference(n):
    """The book's figure for run n as text (helpers.book), e.g. 'val. accuracy about 0.70-0.72 after 30 epochs'."""
    return book.curve_text(RUN_NOTEBOOKS.get(n, "")[:2])


def results_table(runs):
    """A text table of saved runs: epochs, last/best validation accuracy, test accuracy, the book's figure."""
    header = ("run", "epochs", "val acc (last)", "val acc (best)", "test acc", "book (real photos)")
    rows, problems = [header], []
    for n, name in runs.items():
        problem = run_problem(n)
        if problem:
            missing = not model_path(n).exists() and not history_path(n).exists()
            rows.append((name, "-", "-", "-", "-", f"{'not trained' if missing else 'not usable'}: "
                                                   f"run {RUN_NOTEBOOKS.get(n, '?')}"))
            problems += [] if missing else [problem]
            continue
        record = load_record(n)
        val = record["history"].get("val_accuracy", [float("nan")])
        test = record.get("test", {}).get("accuracy")
        rows.append((name, str(record["epochs"]), f"{val[-1]:.3f}", f"{max(val):.3f}",
                     "-" if test is None else f"{test:.3f}", book_reference(n)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(f"{c:<{w}}" for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines + problems)


# Below this validation accuracy a cats-vs-dogs model counts as at chance (0.5 on balanced classes).
CHANCE_BELOW = 0.6


def chance_note(val_accuracy, profile_name, epochs):
    """One line saying the model is at chance (validation accuracy below CHANCE_BELOW), else None."""
    if not val_accuracy < CHANCE_BELOW:
        return None
    trained = f"{profile_name} profile" + ("" if epochs is None else f", {epochs} epochs")
    return f"validation accuracy {val_accuracy:.2f}: at chance, the model has not learned yet ({trained})"


def find_trained_model():
    """(path, description) of the best saved course model: dropout+augmentation, else baseline.

    A model whose record describes it comes first; a model without a matching record is still found (it is a
    model), but its description says what is wrong, and paired_record(n) gives no record for it.
    """
    runs = ((2, "dropout + data augmentation (notebook 06)"), (1, "baseline (notebook 04)"))
    for n, what in runs:
        if model_path(n).is_file() and run_problem(n) is None:
            return model_path(n), what
    for n, what in runs:
        if model_path(n).is_file():
            return model_path(n), f"{what}, without a matching record: {run_problem(n)}"
    return None, None


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
            self.stamp = {"run": self.n, "profile": get_profile().name, "source": _data_source(),
                          "epochs": self.params.get("epochs"), "steps": self.params.get("steps"),
                          "weights": [list(w.shape) for w in self.model.weights]}
            self.logs, self.ran = {}, []
            if not self.folder.exists():
                return
            saved, done = self._read_backup()
            if saved is not None and saved.get("stamp") == self.stamp and 0 < done < (self.stamp["epochs"] or 0):
                self.logs = {int(k): v for k, v in saved.get("logs", {}).items() if int(k) < done}
                if len(self.logs) == done:
                    self.out(f"Resuming the interrupted fit from epoch {done + 1} of {self.stamp['epochs']} "
                             f"(its backup in {self.folder}).")
                    return
            shutil.rmtree(self.folder, ignore_errors=True)
            self.logs = {}
            self.out(f"A backup in {self.folder} was left by another fit (another profile, data, number of epochs "
                     "or model) or cannot be read: removed, training starts from epoch 1.")

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


def models_report():
    """Lines about the models folder for `status`: each run (model and record, matched or not), other saved models,
    backups of interrupted fits; temporary files of interrupted saves are never listed as models."""
    folder = models_dir()
    if not folder.is_dir():
        return ["none trained yet"]
    names = sorted(p.name for p in folder.iterdir())
    temporary = [name for name in names if name.startswith(".") or ".tmp" in name]
    runs = sorted({int(m.group(1)) for m in map(RUN_FILE.match, names) if m and m.group(2) != "backup"})
    lines = []
    for n in runs:
        problem = run_problem(n)
        lines.append(f"{model_path(n).name}: {describe_run(n)}" if problem is None else problem)
    course = {model_path(n).name for n in runs}
    others = [name for name in names if name.endswith((".keras", ".h5")) and name not in course
              and name not in temporary]
    lines += [f"{name} (not one of the course's runs)" for name in others]
    for m in filter(None, map(RUN_FILE.match, names)):
        if m.group(2) == "backup" and m.group(0) not in temporary:
            n = int(m.group(1))
            lines.append(f"{m.group(0)}: the backup of an interrupted fit: running {run_notebook(n)}'s cells again "
                         "resumes it from its last finished epoch")
    if temporary:
        more = f" and {len(temporary) - 1} more" if len(temporary) > 1 else ""
        lines.append(f"({temporary[0]}{more}: left by an interrupted save, not a trained model; "
                     "safe to delete when no notebook is running)")
    return lines or ["none trained yet"]
