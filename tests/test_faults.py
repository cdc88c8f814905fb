"""Faults and bad input for `python -m helpers data|status`: crashes, damaged archives, bad downloads,
malformed arguments, damaged manifests, leftovers, runs at once, disk errors, signals, --force.

Every failure path checks: a non-zero exit code, one clear line without traceback, and the split
prepared before left byte for byte as it was.
"""
import errno
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import archive_server as fake
import pytest

from helpers import config, data
from helpers.__main__ import main
from helpers.data import archives as archive_checks
from helpers.data import download as dl
from helpers.data import folders, obtain, sources
from helpers.data import split as split_mod

ROOT = Path(__file__).resolve().parent.parent


def sha(b):
    return hashlib.sha256(b).hexdigest()


def snapshot(folder):
    """{relative path: sha256} of every file under folder."""
    return {str(p.relative_to(folder)): sha(p.read_bytes()) for p in sorted(folder.rglob("*")) if p.is_file()}


def pictures(folder):
    """snapshot() with manifest.json read without its "stats" (file times: a split made again has new ones)."""
    shot = snapshot(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.pop("stats", None)
    shot["manifest.json"] = manifest
    return shot


def entries(folder):
    """Names in a folder, without the data folder's lock file and its owner note."""
    return sorted(p.name for p in Path(folder).iterdir() if p.name not in (folders.LOCK_FILE, folders.OWNER_FILE))


def one_line(err):
    """Assert stderr is one 'error: ...' line without a traceback or a raw error number; return it.

    A progress bar cleared with carriage returns before the message is not a line of its own.
    """
    err = err.rsplit("\r", 1)[-1]
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "[Errno" not in err, err
    return err


def dead_pid():
    """The id of a process that has ended."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def run_cli(*args, **kwargs):
    """`python -m helpers ...` in a fresh interpreter (the environment carries the test's data folder)."""
    return subprocess.run([sys.executable, "-m", "helpers", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, **kwargs)


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    """No real pauses between download retries."""
    monkeypatch.setattr(dl, "BACKOFF", 0.01)


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    """Archive files built once: {name: (path, bytes)}."""
    root = tmp_path_factory.mktemp("fault-archives")
    made = {"kaggle": fake.kaggle_train_archive(200, start=1)[0],
            "microsoft": fake.microsoft_archive(206, broken={})[0]}
    out = {}
    for name, blob in made.items():
        (root / f"{name}.zip").write_bytes(blob)
        out[name] = (root / f"{name}.zip", blob)
    return out


def split_intact(before):
    """The split is byte for byte as before, and no temporary folder is left beside it."""
    assert snapshot(config.small_dataset_dir()) == before
    assert entries(config.data_dir()) == ["cats_and_dogs_small", "sources"] or \
        entries(config.data_dir()) == ["cats_and_dogs_small", "downloads", "sources"]
    assert not [p for p in (config.data_dir() / "sources").iterdir() if p.name.startswith(".")]


# ---------------------------------------------------------------- 1. two faults in a row

KILLED_BETWEEN_RENAMES = """
import os, pathlib, sys
from helpers.data import folders
real = pathlib.Path.rename
def rename(self, target):
    real(self, target)
    if ".old-" in str(target):
        os._exit(9)  # killed after the first rename of the swap
pathlib.Path.rename = rename
dest = pathlib.Path(sys.argv[1])
tmp = dest.parent / f".{dest.name}.tmp-{os.getpid()}"
(tmp / "train" / "cats").mkdir(parents=True)
(tmp / "train" / "cats" / "cat.0.jpg").write_bytes(b"half a split")
folders.swap_in(tmp, dest)
"""


def crash_between_renames(dest):
    """Really kill a process between the swap's two renames; return the folder it left the split in."""
    proc = subprocess.run([sys.executable, "-c", KILLED_BETWEEN_RENAMES, str(dest)], cwd=ROOT)
    assert proc.returncode == 9
    assert not dest.exists()
    (old,) = dest.parent.glob(f".{dest.name}.old-*")
    return old


def test_two_faults_in_a_row_keep_the_split(kaggle_split, monkeypatch, capsys):
    dest = config.small_dataset_dir()
    crash_between_renames(dest)  # fault 1: the only copy is now .cats_and_dogs_small.old-PID
    calls = {"n": 0}
    real_copy = shutil.copyfile

    def interrupted_copy(src, dst, *a, **k):
        calls["n"] += 1
        if calls["n"] == 50:
            raise KeyboardInterrupt  # fault 2: the next run is interrupted while it copies
        return real_copy(src, dst, *a, **k)

    monkeypatch.setattr(split_mod.shutil, "copyfile", interrupted_copy)
    assert main(["data", "--force"]) == 130
    assert calls["n"] == 50
    assert "interrupted" in capsys.readouterr().err
    split_intact(kaggle_split)
    monkeypatch.setattr(split_mod.shutil, "copyfile", real_copy)
    assert main(["data"]) == 0  # and the run after that keeps it
    assert "kept" in capsys.readouterr().out
    split_intact(kaggle_split)


def test_status_puts_back_a_split_left_by_a_crash(kaggle_split, capsys):
    dest = config.small_dataset_dir()
    old = crash_between_renames(dest)
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert f"put back the split an interrupted run had left as {old.name}" in out
    assert "source: kaggle" in out and "not prepared" not in out
    assert snapshot(config.small_dataset_dir()) == kaggle_split
    assert main(["data"]) == 0  # status only puts the split back; the next run removes the dead run's folder
    split_intact(kaggle_split)


def test_a_crash_state_is_never_deleted_first(tmp_path):
    dest = tmp_path / "split"
    old = tmp_path / f".split.old-{dead_pid()}"
    old.mkdir()
    (old / "kept.txt").write_text("the only copy")
    (tmp_path / f".split.tmp-{dead_pid()}").mkdir()
    folders.tidy(dest)
    assert (dest / "kept.txt").read_text() == "the only copy"
    assert entries(tmp_path) == ["split"]


# ---------------------------------------------------------------- 2. make data / make lab keep the source

def make(*args):
    """Run make with a stand-in Python that prints the arguments it gets, one JSON list per command."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    return subprocess.run(["make", "-s", "-o", "build/no-stamp", "STAMP=build/no-stamp", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.fixture
def stand_in_python(tmp_path):
    script = tmp_path / "python"
    script.write_text(f"#!{sys.executable}\nimport json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    script.chmod(0o755)
    return f"PY={script}"


def test_make_data_without_source_passes_none(stand_in_python):
    result = make("data", stand_in_python)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["-m", "helpers", "data"]


def test_make_data_quotes_its_values(stand_in_python):
    url = "http://127.0.0.1:8000/get?file=cats.zip&token=a b"
    archive = "~/My Downloads/it's here.zip"
    result = make("data", stand_in_python, "SOURCE=microsoft", f"URL={url}", f"ARCHIVE={archive}",
                  "SHA256=" + "ab" * 32)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["-m", "helpers", "data", "--source", "microsoft", "--archive", archive,
                                         "--url", url, "--sha256", "ab" * 32]


def test_make_lab_prepares_data_without_choosing_a_source(stand_in_python):
    result = make("-n", "lab", stand_in_python)
    assert result.returncode == 0, result.stderr
    (line,) = [x for x in result.stdout.splitlines() if "helpers data" in x]
    assert "--source" not in line


def test_data_without_source_keeps_the_real_photos(kaggle_split, capsys):
    assert main(["data"]) == 0
    assert "from source 'kaggle' (the current split's; --source switches)" in capsys.readouterr().out
    split_intact(kaggle_split)
    assert not config.source_dir("synthetic").exists()


def test_source_switches_explicitly(kaggle_split, monkeypatch, capsys):
    monkeypatch.setitem(config.PROFILES, "quick", config.Profile(name="quick", train=3, validation=1, test=1,
        baseline_epochs=1, baseline_batch=20, augmented_epochs=1, augmented_batch=32, description="tiny"))
    assert main(["data", "--source", "synthetic"]) == 0
    assert data.current_source() == "synthetic"
    assert data.split_counts()["train"] == {"cats": 3, "dogs": 3}


# ---------------------------------------------------------------- 3, 4. damaged and oversized entries

def dogs_deflated(blob):
    """The same archive with the dog photos deflated, everything else stored."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info),
                         zipfile.ZIP_DEFLATED if "/Dog/" in info.filename else zipfile.ZIP_STORED)
    return out.getvalue()


def skipped_lines(source="microsoft"):
    """skipped.txt's photo lines as {name: (entry, reason)}."""
    lines = (config.source_dir(source) / "skipped.txt").read_text().splitlines()
    return {p[0]: (p[1], p[2]) for p in (x.split("\t") for x in lines if "\t" in x)}


def test_damaged_entries_are_skipped_and_listed(archives, tmp_path, capsys):
    _path, blob = archives["microsoft"]
    blob = dogs_deflated(blob)
    blob = fake.flip_byte(blob, "PetImages/Cat/1.jpg")  # stored: the CRC-32 check fails
    blob = fake.flip_byte(blob, "PetImages/Dog/2.jpg", at=5)  # deflated: the compressed stream is broken
    bad = tmp_path / "damaged.zip"
    bad.write_bytes(blob)
    assert main(["data", "--source", "microsoft", "--archive", str(bad), "--sha256", sha(blob)]) == 0
    assert "2 broken photos skipped" in capsys.readouterr().out
    skipped = skipped_lines()
    assert skipped["cat.1.jpg"] == ("PetImages/Cat/1.jpg", "damaged in the archive (Bad CRC-32)")
    assert skipped["dog.2.jpg"][1].startswith("damaged in the archive (")
    assert set(skipped) == {"cat.1.jpg", "dog.2.jpg"}
    train = config.small_dataset_dir() / "train"
    assert not (train / "cats" / "cat.1.jpg").exists() and (train / "cats" / "cat.100.jpg").exists()
    assert (train / "cats" / "cat.0.jpg").read_bytes() == fake.photo("cat", 0)


def test_archive_that_cannot_be_read_is_one_line(kaggle_split, tmp_path, capsys):
    bad = tmp_path / "train.zip"
    bad.write_bytes(b"PK\x03\x04" + os.urandom(3000) + b"PK\x05\x06" + b"\xff" * 18)
    assert main(["data", "--source", "kaggle", "--archive", str(bad)]) == 1
    assert "is not a valid zip archive" in one_line(capsys.readouterr().err)
    split_intact(kaggle_split)


def test_huge_entry_is_skipped_without_being_read(archives, tmp_path, monkeypatch, capsys):
    _path, blob = archives["microsoft"]
    blob = fake.claim_size(blob, "PetImages/Cat/7.jpg", 1 << 30)  # a 1 GB entry, as its headers say
    huge = tmp_path / "huge.zip"
    huge.write_bytes(blob)
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, *a, **k: opened.append(
        getattr(name, "filename", name)) or real_open(self, name, *a, **k))
    assert main(["data", "--source", "microsoft", "--archive", str(huge), "--sha256", sha(blob)]) == 0
    assert "PetImages/Cat/7.jpg" not in opened and "PetImages/Cat/8.jpg" in opened
    _entry, reason = skipped_lines()["cat.7.jpg"]
    assert reason == "too large for a photo (1.1 GB; the limit is 52.4 MB), not read"


def test_entry_with_a_lying_header_is_cut_at_its_claimed_size(archives, tmp_path, capsys):
    _path, blob = archives["microsoft"]
    blob = fake.claim_size(blob, "PetImages/Dog/3.jpg", 100)  # claims 100 bytes, holds more
    lying = tmp_path / "lying.zip"
    lying.write_bytes(blob)
    assert main(["data", "--source", "microsoft", "--archive", str(lying), "--sha256", sha(blob)]) == 0
    assert skipped_lines()["dog.3.jpg"][1] == "damaged in the archive (Bad CRC-32)"


def test_entries_above_the_cap_are_skipped_and_batches_are_bounded(archives, monkeypatch):
    path, blob = archives["microsoft"]
    sizes = {i.filename: i.file_size for i in zipfile.ZipFile(path).infolist() if i.filename.endswith(".jpg")}
    cap = sorted(set(sizes.values()))[-3]  # at least the two largest photos are over
    monkeypatch.setattr(archive_checks, "MAX_PHOTO_BYTES", cap)
    monkeypatch.setattr(archive_checks, "BATCH_BYTES", 20_000)
    held = []
    real_check = archive_checks._check_batch
    monkeypatch.setattr(archive_checks, "_check_batch", lambda ex, items: held.append(
        (len(items), sum(len(d) for _, d in items))) or real_check(ex, items))
    sources.fetch("microsoft", archive=path, sha256=sha(blob), progress=False)
    report = sources.read_report(config.source_dir("microsoft"))
    over = {s["entry"] for s in report["skipped"] if s["reason"].startswith("too large")}
    assert len(over) >= 2 and over == {name for name, size in sizes.items() if size > cap}
    assert max(n for n, _ in held) <= archive_checks.BATCH_PHOTOS
    assert max(b for _, b in held) < 20_000 + cap  # a batch is flushed as soon as it reaches BATCH_BYTES
    assert sum(n for n, _ in held) == 412 - len(over)


# ---------------------------------------------------------------- 5. bad downloads are set aside

def test_error_page_is_set_aside_and_the_next_run_downloads_again(archives, server, capsys):
    url = server.add("k.zip", b"<!DOCTYPE html>\n<html><body>Please sign in</body></html>\n")
    assert main(["data", "--source", "kaggle", "--url", url]) == 1
    err = one_line(capsys.readouterr().err)
    assert "is a web page, not a zip archive" in err and "dogs-vs-cats.zip.bad" in err
    downloads = obtain.downloads_dir()
    assert entries(downloads) == ["dogs-vs-cats.zip.bad"]
    server.add("k.zip", archives["kaggle"][1])  # the address now serves the archive
    assert main(["data", "--source", "kaggle", "--url", url]) == 0
    assert len(server.ranges("k.zip")) == 2 and data.current_source() == "kaggle"


def test_download_cut_short_without_a_length_is_set_aside(archives, server, capsys):
    blob = archives["kaggle"][1]
    url = server.add("k.zip", blob)
    server.then("k.zip", ("cut", len(blob) // 2))
    assert main(["data", "--source", "kaggle", "--url", url]) == 1
    assert "incomplete zip archive" in one_line(capsys.readouterr().err)
    assert (obtain.downloads_dir() / "dogs-vs-cats.zip.bad").stat().st_size == len(blob) // 2
    assert main(["data", "--source", "kaggle", "--url", url]) == 0


def test_a_bad_file_kept_by_an_earlier_run_is_not_reused(archives, server, capsys):
    target = obtain.downloads_dir() / "dogs-vs-cats.zip"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"<html>502 Bad Gateway</html>")
    url = server.add("k.zip", archives["kaggle"][1])
    assert main(["data", "--source", "kaggle", "--url", url]) == 0
    assert "set aside as dogs-vs-cats.zip.bad" in capsys.readouterr().out
    assert target.read_bytes() == archives["kaggle"][1] and len(server.ranges("k.zip")) == 1


# ---------------------------------------------------------------- 6. arguments checked before any work

@pytest.mark.parametrize("digest, words", [("abc123", "is not 64 hexadecimal digits"), ("", "is empty"),
                                           ("  ", "is empty"), ("g" * 64, "is not 64 hexadecimal digits")])
def test_malformed_sha256_is_refused_before_any_work(server, capsys, digest, words):
    url = server.add("ms.zip", b"never downloaded")
    assert main(["data", "--source", "microsoft", "--url", url, "--sha256", digest]) == 1
    assert words in one_line(capsys.readouterr().err)
    assert server.requests == [] and not config.data_dir().exists()


def test_sha256_with_synthetic_is_refused_even_empty(capsys):
    assert main(["data", "--source", "synthetic", "--sha256", ""]) == 1
    assert "real-photo sources" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize("url", ["file:///tmp/kagglecatsanddogs_5340.zip", "ftp://example.org/cats.zip",
                                 "example.org/cats.zip", "http://"])
def test_only_http_addresses(capsys, url):
    assert main(["data", "--source", "microsoft", "--url", url]) == 1
    err = one_line(capsys.readouterr().err)
    assert "--url" in err and ("only http(s)" in err or "no host name" in err)
    assert not config.data_dir().exists()


def test_nothing_listening_fails_fast_and_says_so_once(kaggle_split, monkeypatch, capsys):
    monkeypatch.setattr(dl, "BACKOFF", 2.0)
    pauses = []
    monkeypatch.setattr(dl.time, "sleep", pauses.append)
    assert main(["data", "--source", "microsoft", "--url", fake.closed_port_url(), "--sha256", "0" * 64]) == 1
    captured = capsys.readouterr()
    # the longest it can take: every attempt waiting the full connect timeout, plus the pauses
    assert (dl.CONNECT_RETRIES + 1) * dl.CONNECT_TIMEOUT + sum(pauses) <= 15
    assert len(pauses) == dl.CONNECT_RETRIES
    assert (captured.out + captured.err).count("Could not download") == 1
    assert "the connection was refused (tried 2 times)" in captured.err
    split_intact(kaggle_split)


def test_archive_that_is_a_directory(tmp_path, capsys):
    assert main(["data", "--source", "microsoft", "--archive", str(tmp_path)]) == 1
    assert "is a directory: pass the path of the .zip file itself" in one_line(capsys.readouterr().err)


# ---------------------------------------------------------------- 8. damaged manifests and markers

@pytest.mark.parametrize("content", ["[1, 2, 3]", '{"files": 5}', '{"source": "kaggle", "files": {"a": 1}}',
                                     '{"source": "kaggle", "files": {}, "counts": {"train": 3}}', "{not json", ""])
def test_damaged_manifest_is_unverified_then_rebuilt(kaggle_split, capsys, content):
    manifest = config.small_dataset_dir() / "manifest.json"
    manifest.write_text(content)
    result = run_cli("status")
    assert result.returncode == 0 and result.stderr == ""
    assert "source: kaggle (unverified)" in result.stdout and "present but unverified" in result.stdout
    assert "train      cats: 100  dogs: 100" in result.stdout and "not prepared" not in result.stdout
    assert data.current_source() == "kaggle"
    assert main(["data"]) == 0  # the source is found from the files themselves, and the split rebuilt
    split_intact(kaggle_split)


@pytest.mark.parametrize("content", ["[]", '{"seed": "1337", "per_class": 3}', "{broken"])
def test_synthetic_marker_of_the_wrong_type_is_redrawn(monkeypatch, capsys, content):
    monkeypatch.setitem(config.PROFILES, "quick", config.Profile(name="quick", train=3, validation=1, test=1,
        baseline_epochs=1, baseline_batch=20, augmented_epochs=1, augmented_batch=32, description="tiny"))
    assert main(["data"]) == 0
    marker = config.source_dir("synthetic") / "synthetic.json"
    good = marker.read_text()
    before = pictures(config.small_dataset_dir())
    marker.write_text(content)
    assert main(["data"]) == 0  # the images are drawn again, the same ones
    assert marker.read_text() == good and pictures(config.small_dataset_dir()) == before


def test_damaged_report_of_a_source_is_rebuilt(archives, kaggle_split, capsys):
    (config.source_dir("kaggle") / "report.json").write_text('{"source": ["kaggle"]}')
    assert main(["data", "--source", "kaggle", "--archive", str(archives["kaggle"][0])]) == 0
    assert sources.read_report(config.source_dir("kaggle"))["source"] == "kaggle"
    split_intact(kaggle_split)


# ---------------------------------------------------------------- 9. leftovers cleaned on every run

def test_leftovers_are_removed_even_when_everything_is_complete(kaggle_split, capsys):
    root, srcs = config.data_dir(), config.data_dir() / "sources"
    dead = dead_pid()
    made = [root / f".cats_and_dogs_small.tmp-{dead}", root / f".cats_and_dogs_small.old-{dead}",
            srcs / ".kaggle.partial", srcs / f".synthetic.tmp-{dead}", srcs / f".kaggle.old-{dead}"]
    for folder in made:
        (folder / "train").mkdir(parents=True)
        (folder / "train" / "cat.0.jpg").write_bytes(b"left over")
    (srcs / ".kaggle.train.zip").write_bytes(b"left over")
    assert main(["data"]) == 0
    assert "kept" in capsys.readouterr().out
    split_intact(kaggle_split)
    assert entries(srcs) == ["kaggle"]


# ---------------------------------------------------------------- 10. two runs at once

HOLD_LOCK = """
import sys
from helpers.data.folders import data_lock
with data_lock(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def holder():
    """Another process holding the data folder's lock until the test closes its stdin."""
    config.data_dir().mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(config.data_dir())], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    yield proc
    proc.stdin.close()
    proc.wait(timeout=30)


def test_a_second_run_names_the_first_and_gives_up(kaggle_split, holder, monkeypatch, capsys):
    monkeypatch.setattr(folders, "LOCK_WAIT", 0.3)
    assert main(["data", "--force"]) == 1
    captured = capsys.readouterr()
    assert f"Waiting for another run (process {holder.pid}: " in captured.out
    err = one_line(captured.err)
    assert err.startswith(f"error: Another run (process {holder.pid}: ") and "is still preparing data in" in err
    split_intact(kaggle_split)


def read_until(proc, word):
    """A process's output up to and including the first line holding `word` (or all of it)."""
    text = ""
    for line in iter(proc.stdout.readline, ""):
        text += line
        if word in line:
            break
    return text


def test_runs_at_once_take_turns(archives, holder):
    runs = [subprocess.Popen([sys.executable, "-m", "helpers", "data", "--source", "kaggle", "--archive",
                              str(archives["kaggle"][0])], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    seen = [read_until(run, "Waiting") for run in runs]  # both wait for the holder before it lets go
    holder.stdin.close()
    results = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], results
    for waited, (_out, err) in zip(seen, results):
        assert f"Waiting for another run (process {holder.pid}: " in waited and "Traceback" not in err
    assert sum("kept" in out for out, _ in results) == 1  # the second found the first one's split
    assert data.split_counts() == {s: {"cats": n, "dogs": n} for s, n in zip(config.SPLITS, (100, 50, 50))}
    assert entries(config.data_dir()) == ["cats_and_dogs_small", "sources"]
    assert entries(config.data_dir() / "sources") == ["kaggle"]


# ---------------------------------------------------------------- 11. disk errors and signals

@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "The disk is full"), (errno.EROFS, "read-only file system"),
                                         (errno.EACCES, "Permission denied for")])
def test_disk_errors_name_the_path_and_the_fix(kaggle_split, monkeypatch, capsys, code, words):
    def failing_copy(src, dst, *a, **k):
        raise OSError(code, os.strerror(code), *([str(dst)] if code != errno.ENOSPC else []))

    monkeypatch.setattr(split_mod.shutil, "copyfile", failing_copy)
    assert main(["data", "--force"]) == 1
    err = one_line(capsys.readouterr().err)
    assert words in err and str(config.data_dir()) in err and "run the same command again" in err
    assert ".tmp-" not in err  # the folder the learner knows, not the run's temporary one
    split_intact(kaggle_split)


def test_read_only_data_folder_before_anything_exists(monkeypatch, capsys):
    real_mkdir = Path.mkdir

    def read_only(self, *a, **k):
        if str(self).startswith(str(config.data_dir())):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *a, **k)

    monkeypatch.setattr(Path, "mkdir", read_only)
    assert main(["data", "--source", "kaggle", "--archive", __file__]) == 1
    err = one_line(capsys.readouterr().err)
    assert "is on a read-only file system" in err and "COURSE_DATA_DIR" in err


def test_the_real_error_is_reported_not_the_clean_up(archives, kaggle_split, tmp_path, monkeypatch, capsys):
    outer = tmp_path / "dogs-vs-cats.zip"
    outer.write_bytes(fake.kaggle_competition_archive(archives["kaggle"][1]))

    def full_disk(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    real_unlink = Path.unlink

    def stuck_unlink(self, *a, **k):
        if self.name.endswith(".train.zip"):
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_unlink(self, *a, **k)

    monkeypatch.setattr(archive_checks.shutil, "copyfileobj", full_disk)
    monkeypatch.setattr(Path, "unlink", stuck_unlink)
    assert main(["data", "--source", "kaggle", "--archive", str(outer)]) == 1
    err = one_line(capsys.readouterr().err)
    assert "The disk is full" in err and ".train.zip" not in err
    monkeypatch.setattr(Path, "unlink", real_unlink)
    assert snapshot(config.small_dataset_dir()) == kaggle_split


def test_sigterm_is_handled_like_ctrl_c(kaggle_split):
    proc = subprocess.Popen([sys.executable, "-m", "helpers", "data", "--source", "synthetic"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sources_dir = config.data_dir() / "sources"
    deadline = time.monotonic() + 120
    while not list(sources_dir.glob(".synthetic.tmp-*/train/*.jpg")) and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, (out, err)
    assert "Traceback" not in err and [x for x in err.splitlines() if x.strip() and "drawing" not in x] == [
        "interrupted: nothing half-written was kept; run the command again"]
    split_intact(kaggle_split)
    assert entries(sources_dir) == ["kaggle"]


# ---------------------------------------------------------------- 12. --force checks the source again

def test_force_rebuilds_a_damaged_source_from_its_archive(archives, server, capsys):
    _path, blob = archives["microsoft"]
    url = server.add("ms.zip", blob)
    assert main(["data", "--source", "microsoft", "--url", url, "--sha256", sha(blob)]) == 0
    before = snapshot(config.small_dataset_dir())
    damaged = config.source_dir("microsoft") / "train" / "cat.0.jpg"
    damaged.write_bytes(b"\xff\xd8 not a photo any more")
    capsys.readouterr()
    assert main(["data", "--force"]) == 0
    out = capsys.readouterr().out
    assert "differ from the ones checked when they were prepared (train/cat.0.jpg is not the photo that was " \
        "checked): preparing them again from the archive" in out
    assert damaged.read_bytes() == fake.photo("cat", 0)
    assert snapshot(config.small_dataset_dir()) == before
    assert len(server.ranges("ms.zip")) == 1  # rebuilt from the verified download, not downloaded again


def test_force_keeps_an_intact_source(archives, kaggle_split, capsys):
    stamp = (config.source_dir("kaggle") / "report.json").stat().st_mtime_ns
    assert main(["data", "--force", "--archive", str(archives["kaggle"][0])]) == 0
    assert "already holds the photos of this archive" in capsys.readouterr().out
    assert (config.source_dir("kaggle") / "report.json").stat().st_mtime_ns == stamp
    assert snapshot(config.small_dataset_dir()) == kaggle_split


def test_force_notices_added_and_missing_photos(archives, kaggle_split):
    folder = config.source_dir("kaggle")
    report = sources.read_report(folder)
    assert sources.source_problem(folder, report) is None
    (folder / "train" / "cat.1.jpg").unlink()
    assert "1 photo(s) missing, e.g. train/cat.1.jpg" in sources.source_problem(folder, report)
    (folder / "SHA256SUMS").unlink()
    assert "SHA256SUMS is missing" in sources.source_problem(folder, report)
