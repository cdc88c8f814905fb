"""Saved runs: each run's model and record on disk, checked to belong together, described and tabulated.

A run n is a pair in the models folder: the model (cats_and_dogs_small_n.keras, saved by the notebook) and its
record (cats_and_dogs_small_n.history.json: the history, how it was trained, and the model file's size and SHA-256),
written atomically after the model. The two are used together only when the record is readable and describes that
very file (run_problem says what is wrong otherwise).
"""
import contextlib
import errno
import json
import re
import shutil
import unicodedata
import zipfile

from . import book, i18n
from .config import get_profile, models_dir
from .files import replacing, sha256_file, write_json_atomic
from .i18n import say

# The notebook that trains each saved run, for messages when a run is missing.
RUN_NOTEBOOKS = {1: "04_baseline_convnet.ipynb", 2: "06_dropout_and_augmentation.ipynb",
                 8: "08_modern_keras_pipeline.ipynb"}
RUN_FILE = re.compile(r"^cats_and_dogs_small_(\d{1,3})\.(keras|history\.json|backup)$")

# What a notebook prints or shows from here; models_report (the `status` command's lines) stays English.
i18n.messages({
    "saved_runs.some_notebook": "the notebook that trains it",
    "saved_runs.disk_full": "the disk is full{free}",
    "saved_runs.free": ", {megabytes:,.0f} MB free",
    "saved_runs.write_problem": "Could not write {path} ({what}): free some space there (or set COURSE_MODELS_DIR to "
                                "a folder on another disk), then run this cell again; nothing half-written was kept.",
    "saved_runs.no_model": "No saved model {model}: save it first (the listing's model.save cell), then run this "
                           "cell to record its run.",
    "saved_runs.cut_short": "{model} is not a complete saved model ({size:,} bytes: cut short, for example by a full "
                            "disk): free some space, run the listing's model.save cell again, then this cell.",
    "saved_runs.fix": "run {notebook} again to train and save run {n} (or delete that file)",
    "saved_runs.unreadable": "Could not read the saved record {path} ({error}): {fix}.",
    "saved_runs.not_json": "The saved record {path} is damaged (not complete JSON: cut short or edited): {fix}.",
    "saved_runs.damaged": "The saved record {path} is damaged ({damage}): {fix}.",
    "saved_runs.again": "run {notebook} again to train and save both",
    "saved_runs.no_record": "{model} has no record of its run ({record} is missing: the save was interrupted or the "
                            "record deleted), so it is not used as run {n}: {again}.",
    "saved_runs.model_missing": "{path} records run {n}, but its model {model} is missing: {again}.",
    "saved_runs.why_old": "the record holds no size and SHA-256 of its model (saved by an older version of the "
                          "course)",
    "saved_runs.why_size": "the model file has {size:,} bytes, the record says {recorded:,}",
    "saved_runs.why_contents": "same size, different contents (SHA-256)",
    "saved_runs.mismatch": "{model} is not the model its record {record} describes ({why}): it was saved by another "
                           "run, or its own record was never written; {again}.",
    "saved_runs.missing_run": "No saved model {model} in {folder}: run {notebook} first (it trains the model and "
                              "saves it with its history).",
    "saved_runs.describe": "{epochs} epochs, batch {batch}, profile {profile}, data {source}",
    "saved_runs.unknown": "unknown",
    "saved_runs.table.run": "run",
    "saved_runs.table.epochs": "epochs",
    "saved_runs.table.val_last": "val acc (last)",
    "saved_runs.table.val_best": "val acc (best)",
    "saved_runs.table.test": "test acc",
    "saved_runs.table.book": "book (real photos)",
    "saved_runs.table.not_trained": "not trained: run {notebook}",
    "saved_runs.table.not_usable": "not usable: run {notebook}",
    "saved_runs.augmented": "dropout + data augmentation (notebook 06)",
    "saved_runs.baseline": "baseline (notebook 04)",
    "saved_runs.unmatched": "{what}, without a matching record: {problem}",
})


class RunRecordError(ValueError):
    """A saved run whose record cannot be read, or cannot be written; the message names the file and the fix."""


def model_path(n):
    """Where run n's trained model is saved: <models>/cats_and_dogs_small_{n}.keras."""
    return models_dir() / f"cats_and_dogs_small_{n}.keras"


def history_path(n):
    """Where run n's training history is saved, next to the model."""
    return models_dir() / f"cats_and_dogs_small_{n}.history.json"


def data_source():
    """The prepared data's source name, or None when there is none or its folder cannot be read."""
    from . import data

    try:
        return data.current_source()
    except OSError:
        return None


def run_notebook(n):
    """The notebook that trains run n, for messages."""
    return RUN_NOTEBOOKS.get(n) or say("saved_runs.some_notebook")


def write_problem(err, path):
    """One line for an OSError while writing path: what happened and the fix (free space, another folder)."""
    code = getattr(err, "errno", None)
    if code in (errno.ENOSPC, errno.EDQUOT):
        free = ""
        with contextlib.suppress(OSError):
            free = say("saved_runs.free", megabytes=shutil.disk_usage(path.parent).free / 1e6)
        what = say("saved_runs.disk_full", free=free)
    else:
        what = err.strerror or str(err)
    return say("saved_runs.write_problem", path=path, what=what)


def _fingerprint(n):
    """{'model_bytes', 'model_sha256'} of run n's saved model file; RunRecordError if it is missing or cut short."""
    model = model_path(n)
    if not model.is_file():
        raise RunRecordError(say("saved_runs.no_model", model=model))
    size = model.stat().st_size
    if model.suffix == ".keras" and not zipfile.is_zipfile(model):
        raise RunRecordError(say("saved_runs.cut_short", model=model, size=size))
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
              "source": data_source(), **info}
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
    fix = say("saved_runs.fix", notebook=run_notebook(n), n=n)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise RunRecordError(say("saved_runs.unreadable", path=path, error=err.strerror or err, fix=fix)) from None
    except (ValueError, RecursionError):  # JSONDecodeError, bad UTF-8, absurd nesting
        raise RunRecordError(say("saved_runs.not_json", path=path, fix=fix)) from None
    damage = record_damage(record)
    if damage:
        raise RunRecordError(say("saved_runs.damaged", path=path, damage=damage, fix=fix))
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
    again = say("saved_runs.again", notebook=run_notebook(n))
    if record is None:
        if not model.exists():
            return missing_run_message(n)
        return say("saved_runs.no_record", model=model, record=path.name, n=n, again=again)
    if not model.is_file():
        return say("saved_runs.model_missing", path=path, n=n, model=model.name, again=again)
    size = model.stat().st_size
    if record["model"] != model.name or "model_sha256" not in record or "model_bytes" not in record:
        why = say("saved_runs.why_old")
    elif record["model_bytes"] != size:
        why = say("saved_runs.why_size", size=size, recorded=record["model_bytes"])
    elif record["model_sha256"] != _model_hash(model):
        why = say("saved_runs.why_contents")
    else:
        return None
    return say("saved_runs.mismatch", model=model, record=path.name, why=why, again=again)


def paired_record(n):
    """Run n's record when it describes the saved model file (run_problem(n) is None), else None."""
    return None if run_problem(n) else load_record(n)


def run_matches(n):
    """True when run n's model and record belong together (run_problem) and the run was made with the active profile
    on the prepared data's source; describe_run(n) says why not."""
    record = paired_record(n)
    return bool(record) and record.get("profile") == get_profile().name and record.get("source") == data_source()


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
    return say("saved_runs.missing_run", model=model_path(n).name, folder=models_dir(), notebook=run_notebook(n))


def load_model(n):
    """Load run n's saved model, with a message naming the notebook to run if it is missing."""
    import keras

    if not model_path(n).exists():
        raise FileNotFoundError(missing_run_message(n))
    return keras.models.load_model(model_path(n))


def describe_run(n):
    """One line on how run n was trained: epochs, batch size, profile and data set; else what is wrong (run_problem)."""
    problem = run_problem(n)
    if problem:
        return problem
    record = load_record(n)
    return say("saved_runs.describe", epochs=record["epochs"], batch=record.get("batch_size", "?"),
               profile=record["profile"], source=record.get("source") or say("saved_runs.unknown"))


def book_reference(n):
    """The book's figure for run n as text (helpers.book), e.g. 'val. accuracy about 0.70-0.72 after 30 epochs'."""
    return book.curve_text(RUN_NOTEBOOKS.get(n, "")[:2])


def results_table(runs):
    """A text table of saved runs: epochs, last/best validation accuracy, test accuracy, the book's figure."""
    header = tuple(say(f"saved_runs.table.{column}")
                   for column in ("run", "epochs", "val_last", "val_best", "test", "book"))
    rows, problems = [header], []
    for n, name in runs.items():
        problem = run_problem(n)
        if problem:
            missing = not model_path(n).exists() and not history_path(n).exists()
            rows.append((name, "-", "-", "-", "-", say("saved_runs.table.not_trained" if missing
                                                       else "saved_runs.table.not_usable",
                                                       notebook=RUN_NOTEBOOKS.get(n, "?"))))
            problems += [] if missing else [problem]
            continue
        record = load_record(n)
        val = record["history"].get("val_accuracy", [float("nan")])
        test = record.get("test", {}).get("accuracy")
        rows.append((name, str(record["epochs"]), f"{val[-1]:.3f}", f"{max(val):.3f}",
                     "-" if test is None else f"{test:.3f}", book_reference(n)))
    widths = [max(text_width(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c + " " * (w - text_width(c)) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "-" * text_width(lines[0]))
    return "\n".join(lines + problems)


def text_width(text):
    """Columns a text takes in a fixed-width font: 2 for each wide character (Hangul, CJK), 1 for the others."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def find_trained_model():
    """(path, description) of the best saved course model: dropout+augmentation, else baseline.

    A model whose record describes it comes first; a model without a matching record is still found (it is a
    model), but its description says what is wrong, and paired_record(n) gives no record for it.
    """
    runs = ((2, say("saved_runs.augmented")), (1, say("saved_runs.baseline")))
    for n, what in runs:
        if model_path(n).is_file() and run_problem(n) is None:
            return model_path(n), what
    for n, what in runs:
        if model_path(n).is_file():
            return model_path(n), say("saved_runs.unmatched", what=what, problem=run_problem(n))
    return None, None


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
