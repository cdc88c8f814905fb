"""A run saved as a pair (model, then its record with the model's size and SHA-256), damaged records, interrupted
fits that resume, and photos with too many pixels refused from their header: every failure is one line naming the
file and the fix, and nothing the learner has is changed."""
import errno
import hashlib
import io
import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import archive_server as fake
import pytest
from PIL import Image

from helpers import config, saved_runs, training
from helpers.__main__ import main
from helpers.data import archives

ROOT = Path(__file__).resolve().parent.parent
HISTORY = {"accuracy": [0.5, 0.8], "val_accuracy": [0.55, 0.71], "loss": [0.7, 0.4], "val_loss": [0.69, 0.6]}


def saved_model(n, content=b"weights"):
    """A small zip at run n's model path, standing in for the .keras file the notebook saves."""
    path = saved_runs.model_path(n)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("model.weights.h5", content)
    return path


def saved_run(n=1):
    """Run n saved as the notebooks save it: the model, then its record."""
    saved_model(n)
    saved_runs.save_history(n, HISTORY, batch_size=20)
    return saved_runs.model_path(n), saved_runs.history_path(n)


def one_line(text):
    """The text is one line without a traceback."""
    text = text.strip()
    assert "\n" not in text and "Traceback" not in text, text
    return text


def status_models(capsys):
    """The lines `status` prints after 'models:'."""
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    return out[out.index("models:"):].splitlines()[1:]


# ---------------------------------------------------------------- case 7: a run is saved as a pair

def test_the_record_holds_the_model_files_size_and_sha256():
    model, record_path = saved_run(1)
    record = json.loads(record_path.read_text())
    assert record["model"] == model.name and record["model_bytes"] == model.stat().st_size
    assert record["model_sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert saved_runs.run_problem(1) is None and saved_runs.paired_record(1) == record
    assert saved_runs.find_trained_model() == (model, "baseline (notebook 04)")


def test_a_new_model_beside_the_old_runs_record_is_never_paired(capsys):
    model, record_path = saved_run(1)
    before = record_path.read_bytes()
    saved_model(1, b"a new run whose record was never written")
    problem = one_line(saved_runs.run_problem(1))
    assert str(model) in problem and record_path.name in problem and "04_baseline_convnet.ipynb" in problem
    assert not saved_runs.run_matches(1) and saved_runs.paired_record(1) is None
    assert saved_runs.describe_run(1) == problem
    table = saved_runs.results_table({1: "baseline"})
    assert "not usable: run 04_baseline_convnet.ipynb" in table and table.splitlines()[-1] == problem
    path, what = saved_runs.find_trained_model()
    assert path == model and "without a matching record" in what
    assert problem in status_models(capsys)[0]
    assert record_path.read_bytes() == before


def test_a_model_without_its_record_and_a_record_without_its_model_are_reported(capsys):
    model, record_path = saved_run(2)
    record_path.unlink()
    problem = one_line(saved_runs.run_problem(2))
    assert "has no record of its run" in problem and "06_dropout_and_augmentation.ipynb" in problem
    assert not saved_runs.run_matches(2) and problem in status_models(capsys)[0]
    saved_run(2)
    model.unlink()
    problem = one_line(saved_runs.run_problem(2))
    assert f"{record_path} records run 2, but its model {model.name} is missing" in problem
    assert not saved_runs.run_matches(2) and saved_runs.find_trained_model() == (None, None)
    assert problem in status_models(capsys)[0]


def test_a_record_from_before_checksums_is_not_paired():
    _, record_path = saved_run(1)
    record = json.loads(record_path.read_text())
    del record["model_sha256"], record["model_bytes"]
    record_path.write_text(json.dumps(record))
    assert "holds no size and SHA-256" in one_line(saved_runs.run_problem(1)) and not saved_runs.run_matches(1)


def test_recording_a_run_needs_its_saved_model():
    with pytest.raises(saved_runs.RunRecordError,
                       match=r"No saved model .*cats_and_dogs_small_8\.keras: save it first"):
        saved_runs.save_history(8, HISTORY)
    path = saved_runs.model_path(8)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 cut short by a full disk")
    with pytest.raises(saved_runs.RunRecordError) as err:
        saved_runs.save_history(8, HISTORY)
    assert "not a complete saved model" in one_line(str(err.value)) and str(path) in str(err.value)
    assert not saved_runs.history_path(8).exists()


def full_disk_while_writing(monkeypatch, suffix):
    """Make writes of temporary files ending in `suffix` fail halfway with ENOSPC, as on a full disk."""
    real = pathlib.Path.write_text

    def write_text(self, text, *args, **kwargs):
        if ".tmp" in self.name and self.name.endswith(suffix):
            real(self, text[: len(text) // 2], *args, **kwargs)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "write_text", write_text)


def test_a_full_disk_while_saving_the_record_names_the_file_and_keeps_the_old_one(monkeypatch):
    _, record_path = saved_run(1)
    before = record_path.read_bytes()
    saved_model(1, b"the new run's model")
    full_disk_while_writing(monkeypatch, ".json")
    with pytest.raises(saved_runs.RunRecordError) as err:
        saved_runs.save_history(1, HISTORY)
    message = one_line(str(err.value))
    assert message.startswith(f"Could not write {record_path} (the disk is full")
    assert "free some space" in message and "COURSE_MODELS_DIR" in message and "run this cell again" in message
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert record_path.read_bytes() == before  # the old run's record, untouched ...
    assert not saved_runs.run_matches(1) and "is not the model its record" in saved_runs.describe_run(1)  # ... unpaired
    assert sorted(p.name for p in record_path.parent.iterdir()) == sorted([saved_runs.model_path(1).name,
                                                                           record_path.name])


def test_a_full_disk_while_saving_the_model_names_the_file_and_keeps_the_old_one():
    model, _ = saved_run(1)
    before = model.read_bytes()

    class FullDisk:
        def save(self, path):
            Path(path).write_bytes(b"PK half")
            raise OSError(errno.ENOSPC, "No space left on device", str(path))

    with pytest.raises(saved_runs.RunRecordError) as err:
        saved_runs.save_model(FullDisk(), 1)
    assert one_line(str(err.value)).startswith(f"Could not write {model} (the disk is full")
    assert model.read_bytes() == before and saved_runs.run_problem(1) is None
    assert sorted(p.name for p in model.parent.iterdir()) == sorted([model.name, saved_runs.history_path(1).name])


def test_status_never_lists_temporary_files_as_trained_models(capsys):
    model, _ = saved_run(2)
    folder = model.parent
    (folder / f".cats_and_dogs_small_2.tmp{os.getpid()}.keras").write_bytes(b"PK half a model")
    (folder / ".cats_and_dogs_small_1.history.tmp77.json").write_text("{")
    (folder / "mine.tmp3.keras").write_bytes(b"x")
    (folder / "my_own.keras").write_bytes(b"x")
    lines = status_models(capsys)
    assert lines[0] == "  cats_and_dogs_small_2.keras: 2 epochs, batch 20, profile quick, data unknown"
    assert lines[1] == "  my_own.keras (not one of the course's runs)"
    assert "left by an interrupted save, not a trained model" in lines[2] and len(lines) == 3
    assert lines[2].startswith("  (.cats_and_dogs_small_1.history.tmp77.json and 2 more: ")


def test_status_with_no_models_folder_says_none_trained(capsys):
    assert status_models(capsys) == ["  none trained yet"]


# ---------------------------------------------------------------- case 8: a damaged record is one line

DAMAGED = {
    "cut short": '{"run": 1, "history": {',
    "not an object": "[1, 2]",
    "history of strings": '{"run": 1, "model": "cats_and_dogs_small_1.keras", "history": {"loss": "abc"}, '
                          '"epochs": 1, "profile": "quick"}',
    "null in history": '{"run": 1, "model": "cats_and_dogs_small_1.keras", "history": {"val_accuracy": [null]}, '
                       '"epochs": 1, "profile": "quick"}',
    "no epochs": '{"run": 1, "model": "cats_and_dogs_small_1.keras", "history": {}, "profile": "quick"}',
    "test of the wrong type": '{"run": 1, "model": "cats_and_dogs_small_1.keras", "history": {}, "epochs": 0, '
                              '"profile": "quick", "test": [0.5]}',
    "deep nesting": "[" * 100_000,
    "not UTF-8": b"\xff\xfe{",
}


@pytest.mark.parametrize("kind", DAMAGED)
def test_a_damaged_record_names_the_file_and_the_notebook(kind, capsys):
    saved_run(1)
    path = saved_runs.history_path(1)
    content = DAMAGED[kind]
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    before = path.read_bytes()
    for read in (saved_runs.load_record, saved_runs.load_history):
        with pytest.raises(saved_runs.RunRecordError) as err:
            read(1)
        message = one_line(str(err.value))
        assert f"The saved record {path} is damaged" in message and "run 04_baseline_convnet.ipynb again" in message
        assert err.value.__cause__ is None and (err.value.__context__ is None or err.value.__suppress_context__)
    assert saved_runs.run_matches(1) is False
    assert saved_runs.describe_run(1) == message and saved_runs.run_problem(1) == message
    assert saved_runs.results_table({1: "baseline"}).splitlines()[-1] == message
    assert saved_runs.paired_record(1) is None
    assert any(message in line for line in status_models(capsys))
    assert path.read_bytes() == before


def test_a_record_that_is_a_folder_is_one_line():
    saved_runs.history_path(1).mkdir(parents=True)
    with pytest.raises(saved_runs.RunRecordError, match=r"Could not read the saved record .* run 04_baseline"):
        saved_runs.load_record(1)
    assert not saved_runs.run_matches(1)


# ---------------------------------------------------------------- case 13: an interrupted fit resumes

FIT = textwrap.dedent("""
    import os, sys
    import numpy as np
    import keras
    from helpers import training

    class Kill(keras.callbacks.Callback):  # after the backup of the epoch: the process dies, as a lost runtime does
        def on_epoch_end(self, epoch, logs=None):
            print("loss", epoch, logs["loss"], flush=True)
            if epoch == int(sys.argv[1]):
                os._exit(9)

    class Seen(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            print("begin", epoch, float(np.sum(self.model.get_weights()[0])), flush=True)

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((32, 4), dtype="float32")
    y = (x.sum(axis=1) > 2).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=4, batch_size=8, verbose=0,
                        callbacks=training.fit_callbacks(1, Seen()) + [Kill()])
    print("history", len(history.history["loss"]), history.history["loss"][0], history.epoch)
""")


def fit(kill_after, tmp_path, profile="quick"):
    """Run the small fit in a fresh process (killed at the end of epoch index kill_after); return its output lines."""
    env = {**os.environ, "COURSE_PROFILE": profile, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", FIT, str(kill_after)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout.splitlines()


def test_a_killed_fit_resumes_from_its_next_epoch_and_a_finished_one_starts_over(tmp_path):
    backup = training.backup_dir(1)
    code, out = fit(0, tmp_path)  # killed after epoch 1
    assert code == 9 and backup.is_dir(), out
    weights_after_1 = next(line for line in out if line.startswith("loss 0"))
    code, out = fit(99, tmp_path)  # run again: resumes
    assert code == 0, out
    assert out[0] == f"Resuming the interrupted fit from epoch 2 of 4 (its backup in {backup})."
    begins = [line.split() for line in out if line.startswith("begin")]
    assert [int(b[1]) for b in begins] == [1, 2, 3]  # epochs 2-4 only
    history = out[-1].split(maxsplit=3)
    assert history[1] == "4" and history[2] == weights_after_1.split()[2]  # the whole fit's history
    assert history[3] == "[0, 1, 2, 3]"
    assert not backup.exists()  # Keras removed the backup when the fit ended ...
    code, out = fit(99, tmp_path)  # ... so the next run trains from epoch 1
    assert code == 0 and [line.split()[1] for line in out if line.startswith("begin")] == ["0", "1", "2", "3"]
    assert not any("Resuming" in line for line in out)


def test_a_backup_of_another_profile_is_removed_not_resumed(tmp_path, capsys):
    backup = training.backup_dir(1)
    code, _ = fit(1, tmp_path)
    assert code == 9 and backup.is_dir()
    code, out = fit(99, tmp_path, profile="full")
    assert code == 0
    assert out[0].startswith(f"A backup in {backup} was left by another fit") and "starts from epoch 1" in out[0]
    assert [line.split()[1] for line in out if line.startswith("begin")] == ["0", "1", "2", "3"]


def test_status_says_an_interrupted_fit_will_resume(capsys):
    training.backup_dir(2).mkdir(parents=True)
    (training.backup_dir(2) / "training_metadata.json").write_text('{"epoch": 3, "batch": 0}')
    lines = status_models(capsys)
    assert lines == ["  cats_and_dogs_small_2.backup: the backup of an interrupted fit: running "
                     "06_dropout_and_augmentation.ipynb's cells again resumes it from its last finished epoch"]


# ---------------------------------------------------------------- case 11: photos with too many pixels

def huge_header_jpeg(width, height):
    """A JPEG of a few hundred bytes whose header claims width x height pixels (a 'pixel bomb')."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (120, 80, 40)).save(out, "JPEG")
    data = bytearray(out.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


def test_photos_with_too_many_pixels_are_refused_from_their_header(tmp_path, monkeypatch, capsys):
    bomb = huge_header_jpeg(13_000, 13_000)  # 169 megapixels in under a kilobyte
    assert len(bomb) < 1000
    decoded = []
    real_load = Image.Image.load
    with monkeypatch.context() as patch:
        patch.setattr(Image.Image, "load", lambda self: decoded.append(self.size) or real_load(self))
        assert archives.check_jpeg(bomb).startswith("image too large to open safely (13,000 x 13,000 = "
                                                    "169,000,000 pixels; the limit is 67,108,864")
    assert decoded == []  # refused before decoding
    blob, _ = fake.kaggle_train_archive(200, start=1)
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        entries = {name: zf.read(name) for name in zf.namelist()}
    for i in range(201, 205):
        entries[f"train/cat.{i}.jpg"] = entries[f"train/dog.{i}.jpg"] = bomb
    path = tmp_path / "train.zip"
    path.write_bytes(fake.zip_bytes(entries, zipfile.ZIP_DEFLATED))
    assert main(["data", "--source", "kaggle", "--archive", str(path)]) == 0
    assert "8 broken photos skipped" in capsys.readouterr().out
    lines = [line for line in (config.source_dir("kaggle") / "skipped.txt").read_text().splitlines() if "\t" in line]
    assert len(lines) == 8 and all("image too large to open safely" in line for line in lines)
    assert lines[0].startswith("cat.201.jpg\ttrain/cat.201.jpg\t")
    split_files = [p.name for p in config.small_dataset_dir().rglob("*.jpg")]
    assert len(split_files) == 400 and "cat.201.jpg" not in split_files
    assert not (config.source_dir("kaggle") / "train" / "cat.201.jpg").exists()


def test_korean_results_table_lines_up_and_runs_are_described_in_korean(monkeypatch):
    saved_run(1)
    english = saved_runs.results_table({1: "baseline", 2: "dropout"})
    monkeypatch.setenv("COURSE_LANG", "ko")
    table = saved_runs.results_table({1: "baseline", 2: "dropout"}).splitlines()
    assert re.search("[가-힣]", table[0]) and re.search("[가-힣]", table[3])  # header, and "not trained" for run 2
    assert table[1] == "-" * saved_runs.text_width(table[0])
    header, row = table[0], table[2]  # the validation column starts at the same column (Hangul: two columns wide)
    assert saved_runs.text_width(row[:row.index("0.710")]) == saved_runs.text_width(header[:header.index("검증")])
    assert re.search("[가-힣]", saved_runs.describe_run(1)) and "quick" in saved_runs.describe_run(1)
    assert re.search("[가-힣]", saved_runs.run_problem(2))
    monkeypatch.setenv("COURSE_LANG", "en")
    assert saved_runs.results_table({1: "baseline", 2: "dropout"}) == english
    assert english.splitlines()[0].startswith("run       epochs  val acc (last)")
