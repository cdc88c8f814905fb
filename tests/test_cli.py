"""`python -m helpers data|status`: exit codes, one-line errors, what status reports."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import config, data
from helpers.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def tiny_profile(monkeypatch):
    """A 'tiny' profile (3/1/1 per class) for in-process runs of the command."""
    monkeypatch.setitem(config.PROFILES, "tiny", config.Profile(name="tiny", train=3, validation=1, test=1,
        baseline_epochs=1, baseline_batch=20, augmented_epochs=1, augmented_batch=32, description="for tests"))


def run_cli(*args, env=None):
    """Run `python -m helpers ...` in a fresh interpreter."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "helpers", *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=120)


def test_data_then_status(tiny_profile, tmp_path, capsys):
    target = tmp_path / "elsewhere"
    assert main(["data", "--profile", "tiny", "--data-dir", str(target)]) == 0
    out = capsys.readouterr().out
    assert "total training cat images: 3" in out and "Data set ready" in out
    assert data.split_counts(target / "cats_and_dogs_small")["test"] == {"cats": 1, "dogs": 1}
    assert data.current_source(target / "cats_and_dogs_small") == "synthetic"
    models = config.models_dir()
    models.mkdir(parents=True)
    (models / "cats_and_dogs_small_1.keras").write_bytes(b"")
    assert main(["status", "--data-dir", str(target)]) == 0
    out = capsys.readouterr().out
    assert "profile: tiny" in out and "source: synthetic" in out
    assert "train      cats: 3  dogs: 3" in out and "cats_and_dogs_small_1.keras" in out


def test_force_rebuilds(tiny_profile, capsys):
    assert main(["data", "--profile", "tiny"]) == 0
    inode = config.small_dataset_dir().stat().st_ino
    assert main(["data", "--profile", "tiny"]) == 0
    assert config.small_dataset_dir().stat().st_ino == inode
    assert main(["data", "--profile", "tiny", "--force"]) == 0
    assert config.small_dataset_dir().stat().st_ino != inode


def test_expected_error_is_one_line_and_nonzero(tiny_profile, capsys):
    assert main(["data", "--profile", "tiny", "--archive", "photos.zip"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_expected_errors_are_one_line_and_a_bug_keeps_its_traceback(monkeypatch, capsys):
    from helpers.data import download, sources

    for error in (sources.SourceError("no usable archive"), download.DownloadError("host unreachable"),
                  ValueError("bad name"), FileNotFoundError("no such file")):
        monkeypatch.setattr(data, "prepare", lambda *a, error=error, **k: (_ for _ in ()).throw(error))
        assert main(["data", "--source", "synthetic"]) == 1
        assert capsys.readouterr().err == f"error: {error}\n"
    monkeypatch.setattr(data, "prepare", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("a bug")))
    with pytest.raises(RuntimeError, match="a bug"):
        main(["data", "--source", "synthetic"])


def test_status_before_anything_is_prepared():
    result = run_cli("status")
    assert result.returncode == 0, result.stderr
    assert "profile: quick" in result.stdout and "not prepared yet" in result.stdout
    assert "none trained yet" in result.stdout


def test_unknown_source_exits_nonzero_without_traceback():
    result = run_cli("data", "--source", "nosuchsource")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "nosuchsource" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_profile_and_missing_command_are_usage_errors():
    assert run_cli("data", "--profile", "medium").returncode == 2
    assert run_cli().returncode == 2


def test_status_accepts_a_split_capped_by_its_source(tiny_profile, monkeypatch, capsys):
    assert main(["data", "--profile", "tiny"]) == 0
    capsys.readouterr()
    # The same split read under a bigger profile whose sizes the source could not fill: built for
    # "tiny" it asks for a rebuild; recorded as planned for that profile it is only reported as capped.
    monkeypatch.setitem(config.PROFILES, "big", config.Profile(name="big", train=5, validation=2, test=2,
        baseline_epochs=1, baseline_batch=20, augmented_epochs=1, augmented_batch=32, description="bigger"))
    assert main(["status", "--profile", "big"]) == 0
    assert "prepared for the tiny profile" in capsys.readouterr().out
    manifest_path = config.small_dataset_dir() / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "profile": "big"}))
    assert main(["status", "--profile", "big"]) == 0
    out = capsys.readouterr().out
    assert "3/1/1 per class: the source holds fewer images than the big profile's 5/2/2" in out
    assert "rebuild" not in out
    next(config.small_dataset_dir().glob("train/cats/*")).unlink()
    assert main(["status", "--profile", "big"]) == 0
    assert "no longer hold the images" in capsys.readouterr().out


def test_status_of_a_complete_split_has_no_note(tiny_profile, capsys):
    assert main(["data", "--profile", "tiny"]) == 0
    capsys.readouterr()
    assert main(["status", "--profile", "tiny"]) == 0
    out = capsys.readouterr().out
    assert "source: synthetic" in out and "rebuild" not in out and "fewer images" not in out
