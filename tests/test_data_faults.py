"""Faults of the data folder, round three: a failed run never touches prepared photos, the split is verified by
content, no lock or path can be turned against the learner, and the data commands need nothing Unix-only.

Every failure path checks: a non-zero exit code, one line naming the file and the fix without a traceback,
and the prepared source and split left byte for byte as they were.
"""
import dataclasses
import errno
import io
import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import archive_server as fake
import pytest
from test_faults import entries, one_line, pictures, run_cli, snapshot, split_intact

from helpers import config, data
from helpers.__main__ import main
from helpers.data import download as dl
from helpers.data import folders, obtain
from helpers.data import manifest as manifest_mod
from helpers.data import split as split_mod

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    """No real pauses between download retries."""
    monkeypatch.setattr(dl, "BACKOFF", 0.01)


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    """Archive files built once: {name: (path, bytes)}."""
    root = tmp_path_factory.mktemp("data-fault-archives")
    made = {"kaggle": fake.kaggle_train_archive(200, start=1)[0],
            "kaggle_small": fake.kaggle_train_archive(150, start=1)[0]}
    out = {}
    for name, blob in made.items():
        (root / f"{name}.zip").write_bytes(blob)
        out[name] = (root / f"{name}.zip", blob)
    return out


def source_shot(name="kaggle"):
    return snapshot(config.source_dir(name))


# ---------------------------------------------------------------- 1. a failed run keeps the prepared photos

def test_a_failed_run_keeps_the_prepared_source_and_split(archives, kaggle_split, capsys):
    before = source_shot()
    assert main(["data", "--source", "kaggle", "--archive", str(archives["kaggle_small"][0])]) == 1
    err = one_line(capsys.readouterr().err)
    assert "Too few images in the kaggle archive kaggle_small.zip: found 150 cats and 150 dogs" in err
    assert "data prepared earlier was not changed" in err
    assert "COURSE_PROFILE=quick" not in err  # already the quick profile: it is no fix
    assert source_shot() == before
    split_intact(kaggle_split)
    assert main(["data", "--force"]) == 0  # and the photos prepared before still work
    split_intact(kaggle_split)


def test_too_few_images_suggests_the_quick_profile_only_outside_it():
    images = {"cats": [Path("cat.0.jpg")] * 10, "dogs": [Path("dog.0.jpg")] * 10}
    with pytest.raises(ValueError) as full:
        split_mod.check_enough(images, config.get_profile("full"), "src")
    with pytest.raises(ValueError) as quick:
        split_mod.check_enough(images, config.get_profile("quick"), "src")
    assert "COURSE_PROFILE=quick" in str(full.value)
    assert "COURSE_PROFILE" not in str(quick.value) and "the quick profile is the smallest" in str(quick.value)


def test_a_new_archive_with_the_same_names_makes_the_split_again(kaggle_split, tmp_path, capsys):
    other = {f"train/{cls}.{i}.jpg": fake.photo(cls, i, size=(24, 16)) for i in range(1, 201) for cls in ("cat", "dog")}
    path = tmp_path / "train.zip"
    path.write_bytes(fake.zip_bytes(other))
    assert main(["data", "--source", "kaggle", "--archive", str(path)]) == 0
    split = config.small_dataset_dir()
    assert (split / "train" / "cats" / "cat.1.jpg").read_bytes() == other["train/cat.1.jpg"]
    assert (split / "test" / "dogs" / "dog.200.jpg").read_bytes() == other["train/dog.200.jpg"]


# ---------------------------------------------------------------- 2. the split is verified by content

def test_an_emptied_photo_is_found_by_status_and_copied_again_by_data(kaggle_split, capsys):
    photo = config.small_dataset_dir() / "train" / "cats" / "cat.5.jpg"
    photo.write_bytes(b"")
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "train/cats/cat.5.jpg changed since the split was made" in out and "python -m helpers data" in out
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    assert "train/cats/cat.5.jpg in cats_and_dogs_small/ had changed since the split was made: copied again" in out
    split_intact(kaggle_split)  # the photo, its time and the manifest as they were
    assert main(["status"]) == 0 and "changed since" not in capsys.readouterr().out


def test_an_intact_split_is_checked_without_hashing_and_force_hashes_again(kaggle_split, monkeypatch, capsys):
    photo = config.small_dataset_dir() / "validation" / "dogs" / "dog.120.jpg"
    hashed = []
    real = manifest_mod.sha256_file
    monkeypatch.setattr(manifest_mod, "sha256_file", lambda p, *a, **k: hashed.append(Path(p).name) or real(p, *a, **k))
    assert main(["data"]) == 0 and hashed == []  # sizes and times match the manifest: nothing is read
    # The same size and time with other bytes: the fast check trusts it; --force does not.
    stat = photo.stat()
    blob = bytearray(photo.read_bytes())
    blob[-3] ^= 0xFF
    photo.write_bytes(bytes(blob))
    os.utime(photo, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert main(["data"]) == 0 and "kept" in capsys.readouterr().out
    assert main(["data", "--force"]) == 0
    split_intact(kaggle_split)


def test_a_touched_photo_is_hashed_and_its_new_time_recorded(kaggle_split, capsys):
    photo = config.small_dataset_dir() / "test" / "cats" / "cat.160.jpg"
    os.utime(photo, (1_000_000_000, 1_000_000_000))  # same bytes, another time (a backup tool, a copy)
    assert main(["data"]) == 0
    assert "changed" not in capsys.readouterr().out
    manifest = data.read_manifest()
    assert manifest["stats"]["test/cats/cat.160.jpg"] == [photo.stat().st_size, 1_000_000_000 * 10**9]
    assert data.changed_files() == []


def test_a_manifest_without_times_is_checked_in_full_once(kaggle_split, capsys):
    path = config.small_dataset_dir() / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["stats"]
    path.write_text(json.dumps(manifest, indent=1))
    (config.small_dataset_dir() / "train" / "dogs" / "dog.7.jpg").write_bytes(b"\xff\xd8 damaged")
    assert main(["data"]) == 0
    assert "train/dogs/dog.7.jpg in cats_and_dogs_small/ had changed" in capsys.readouterr().out
    split_intact(kaggle_split)  # the times are recorded again: the same manifest as before


def test_a_photo_changed_in_the_split_and_in_the_source_is_named(archives, kaggle_split, capsys):
    for folder in (config.small_dataset_dir() / "train" / "cats", config.source_dir("kaggle") / "train"):
        (folder / "cat.9.jpg").write_bytes(b"not the photo")
    split = snapshot(config.small_dataset_dir())
    assert main(["data"]) == 1
    err = one_line(capsys.readouterr().err)
    assert "train/cats/cat.9.jpg in cats_and_dogs_small/ changed" in err and "sources/kaggle/train/cat.9.jpg" in err
    assert "python -m helpers data --force" in err
    assert snapshot(config.small_dataset_dir()) == split
    # the source is prepared again from its archive (given by hand: passed again), then the split
    assert main(["data", "--force", "--archive", str(archives["kaggle"][0])]) == 0
    split_intact(kaggle_split)


# ---------------------------------------------------------------- 3. what file managers leave in the split

HOUSEKEEPING = {".DS_Store": b"\x00\x00\x00\x01Bud1", "._cat.1.jpg": b"\x00\x05\x16\x07 resource fork",
                "Thumbs.db": b"\xd0\xcf\x11\xe0", "desktop.ini": b"[.ShellClassInfo]"}


def test_housekeeping_files_are_ignored_by_every_reader(kaggle_split, capsys):
    folder = config.small_dataset_dir() / "train" / "cats"
    for name, blob in HOUSEKEEPING.items():
        (folder / name).write_bytes(blob)
    assert data.split_counts()["train"] == {"cats": 100, "dogs": 100}
    assert [p.name for p in data.split_photos(folder)][:3] == ["cat.1.jpg", "cat.2.jpg", "cat.3.jpg"]
    assert len(data.image_sizes("train")) == 200
    assert not {p.name for p in data.sample_paths("train", n=400)} & set(HOUSEKEEPING)
    assert data.not_photos() == sorted(f"train/cats/{n}" for n in HOUSEKEEPING)
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "(4 file(s) that are not photos of the split, e.g. train/cats/.DS_Store, are ignored)" in out
    assert "no longer hold" not in out and "changed since" not in out
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    assert "kept" in out and "Note: 4 file(s) in cats_and_dogs_small/ are not photos of the split" in out


# ---------------------------------------------------------------- 4. links and odd files in the lock's place

@pytest.mark.parametrize("kind, words", [("link", "is a symbolic link"), ("folder", "is a folder")])
def test_a_lock_file_that_is_a_link_or_a_folder_is_refused(kaggle_split, tmp_path, capsys, kind, words):
    victim = tmp_path / "victim.txt"
    victim.write_text("a learner's file")
    lock = config.data_dir() / folders.LOCK_FILE
    lock.unlink()
    if kind == "link":
        lock.symlink_to(victim)
    else:
        lock.mkdir()
    assert main(["data", "--force"]) == 1
    err = one_line(capsys.readouterr().err)
    assert f"{lock} {words}, not the data folder's lock file" in err and "Delete it" in err
    assert victim.read_text() == "a learner's file"
    assert snapshot(config.small_dataset_dir()) == kaggle_split
    assert main(["status"]) == 0  # status still reports
    assert "source: kaggle" in capsys.readouterr().out


def test_a_partial_download_that_is_a_link_is_refused(server, tmp_path, capsys):
    victim = tmp_path / "victim.txt"
    victim.write_text("a learner's file")
    part = obtain.downloads_dir() / "dogs-vs-cats.zip.part"
    part.parent.mkdir(parents=True)
    part.symlink_to(victim)
    url = server.add("k.zip", b"PK never read")
    assert main(["data", "--source", "kaggle", "--url", url]) == 1
    err = one_line(capsys.readouterr().err)
    assert f"{part} is a symbolic link, not a partial download" in err
    assert victim.read_text() == "a learner's file" and server.requests == []


# ---------------------------------------------------------------- 5. leftovers judged by the lock, not by ids

@pytest.fixture
def unrelated_process():
    """A running process that has nothing to do with the course."""
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    yield proc
    proc.stdin.close()
    proc.wait(timeout=30)


def crash_with_id(pid):
    """The split as a run killed between the swap's renames leaves it, named after process `pid`."""
    dest = config.small_dataset_dir()
    old = dest.parent / f".{dest.name}.old-{pid}"
    dest.rename(old)
    return old


def test_a_reused_process_id_does_not_hide_or_lose_the_split(kaggle_split, unrelated_process, capsys):
    old = crash_with_id(unrelated_process.pid)
    result = run_cli("status")
    assert result.returncode == 0 and result.stderr == ""
    assert f"put back the split an interrupted run had left as {old.name}" in result.stdout
    assert "source: kaggle" in result.stdout and "not prepared" not in result.stdout
    crash_with_id(unrelated_process.pid)
    assert main(["data"]) == 0  # keeps the real photos: no synthetic split
    assert "from source 'kaggle'" in capsys.readouterr().out
    split_intact(kaggle_split)
    unrelated_process.stdin.close()
    unrelated_process.wait(timeout=30)
    assert main(["data"]) == 0
    split_intact(kaggle_split)


HOLD_LOCK = """
import sys
from helpers.data.folders import data_lock
with data_lock(sys.argv[1]):
    print("locked", flush=True)
    sys.stdin.read()
"""


def test_a_run_that_holds_the_lock_is_left_alone_and_named(kaggle_split, capsys):
    old = crash_with_id(99999999)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(config.data_dir())], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main(["status"]) == 0
        out = capsys.readouterr().out
        assert f"another run, process {holder.pid}: " in out and "is preparing data here now" in out
        assert old.is_dir() and not config.small_dataset_dir().exists()  # it may be between its two renames
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert main(["status"]) == 0
    assert "put back the split" in capsys.readouterr().out
    split_intact(kaggle_split)


# ---------------------------------------------------------------- 6. relative folders and odd folder settings

def test_relative_folders_are_read_from_the_repository(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", "build/relative-data-check")
    monkeypatch.setenv("COURSE_MODELS_DIR", os.path.join("build", "relative-models-check"))
    monkeypatch.chdir(tmp_path)
    assert config.data_dir() == ROOT / "build" / "relative-data-check"
    assert config.models_dir() == ROOT / "build" / "relative-models-check"
    script = "from helpers import config; print(config.data_dir()); print(config.models_dir())"
    from_notebooks = subprocess.run([sys.executable, "-c", script], cwd=ROOT / "notebooks", capture_output=True,
                                    text=True, timeout=60)
    assert from_notebooks.stdout.split() == [str(ROOT / "build" / "relative-data-check"),
                                             str(ROOT / "build" / "relative-models-check")]
    assert not (ROOT / "build" / "relative-data-check").exists()


def test_a_data_folder_that_is_a_file_is_one_line(monkeypatch, tmp_path):
    not_a_folder = tmp_path / "data.txt"
    not_a_folder.write_text("notes")
    for command in ("data", "status"):
        result = run_cli(command, env={**os.environ, "COURSE_DATA_DIR": str(not_a_folder)})
        assert result.returncode == 1
        err = one_line(result.stderr)
        assert f"names {not_a_folder}, which is a file, not a folder" in err and "COURSE_DATA_DIR" in err
    assert not_a_folder.read_text() == "notes"


def test_an_empty_data_dir_option_is_refused(capsys):
    assert main(["data", "--data-dir", ""]) == 1
    assert "--data-dir is empty" in one_line(capsys.readouterr().err)
    assert main(["status", "--data-dir", "  "]) == 1
    assert "--data-dir is empty" in one_line(capsys.readouterr().err)
    assert not config.data_dir().exists()


# ---------------------------------------------------------------- 9, 10. odd archives and deeply nested JSON

def test_train_zip_inside_train_zip_is_one_line(archives, kaggle_split, tmp_path, capsys):
    nested = fake.zip_bytes({"train.zip": fake.zip_bytes({"train.zip": archives["kaggle"][1]})})
    path = tmp_path / "dogs-vs-cats.zip"
    path.write_bytes(nested)
    before = source_shot()
    assert main(["data", "--source", "kaggle", "--archive", str(path)]) == 1
    err = one_line(capsys.readouterr().err)
    assert "train.zip inside dogs-vs-cats.zip holds another train.zip instead of the photos" in err
    assert source_shot() == before
    split_intact(kaggle_split)


DEEP = "[" * 200_000


@pytest.mark.parametrize("name", ["manifest.json", "report.json", "synthetic.json"])
def test_deeply_nested_json_is_a_damaged_file(archives, monkeypatch, capsys, name):
    if name == "synthetic.json":
        monkeypatch.setitem(config.PROFILES, "quick", config.Profile(name="quick", train=3, validation=1, test=1,
            baseline_epochs=1, baseline_batch=20, augmented_epochs=1, augmented_batch=32, description="tiny"))
        assert main(["data", "--source", "synthetic"]) == 0
        path = config.source_dir("synthetic") / name
    else:
        assert main(["data", "--source", "kaggle", "--archive", str(archives["kaggle"][0])]) == 0
        path = (config.small_dataset_dir() if name == "manifest.json" else config.source_dir("kaggle")) / name
    before = pictures(config.small_dataset_dir())
    path.write_text(DEEP)
    capsys.readouterr()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert ("present but unverified" in out) == (name == "manifest.json")
    extra = ["--archive", str(archives["kaggle"][0])] if name == "report.json" else []
    assert main(["data", *extra]) == 0  # the documented fix works
    assert pictures(config.small_dataset_dir()) == before
    assert path.read_text() != DEEP


# ---------------------------------------------------------------- 12. downloads have a size limit

def test_an_endless_download_stops_near_the_sources_size(kaggle_split, server, monkeypatch, capsys):
    monkeypatch.setitem(obtain.SOURCES, "kaggle", dataclasses.replace(obtain.SOURCES["kaggle"], usual_size=300_000))
    url = server.add("k.zip", b"unused")
    server.then("k.zip", ("endless",))
    started = time.monotonic()
    assert main(["data", "--source", "kaggle", "--url", url]) == 1
    err = one_line(capsys.readouterr().err)
    assert "sent more than 375.0 kB without announcing a size" in err and "dogs-vs-cats.zip.part was deleted" in err
    assert time.monotonic() - started < 60
    assert entries(obtain.downloads_dir()) == []
    split_intact(kaggle_split)


def test_a_download_larger_than_announced_for_the_source_is_refused(kaggle_split, server, monkeypatch, capsys):
    monkeypatch.setitem(obtain.SOURCES, "google", dataclasses.replace(obtain.SOURCES["google"], size=1000))
    url = server.add("g.zip", b"x" * 5000)
    assert main(["data", "--source", "google", "--url", url]) == 1
    err = one_line(capsys.readouterr().err)
    assert "announces 5.0 kB, more than the file can be (at most 1.0 kB)" in err
    assert not (obtain.downloads_dir() / "cats_and_dogs_filtered.zip.part").exists()
    split_intact(kaggle_split)


class FullDisk(io.RawIOBase):
    """A file that takes `room` bytes, then fails as a full disk does."""

    def __init__(self, real, room):
        self.real, self.room = real, room

    def writable(self):
        return True

    def write(self, block):
        if len(block) > self.room:
            self.real.write(bytes(block[:self.room]))
            self.room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(block)
        return self.real.write(block)

    def close(self):
        self.real.close()
        super().close()


def test_a_full_disk_while_downloading_names_the_part_file_which_resumes(archives, kaggle_split, server,
                                                                          monkeypatch, capsys):
    blob = archives["kaggle"][1]
    url = server.add("k.zip", blob)
    real_open = dl._open_part
    monkeypatch.setattr(dl, "_open_part", lambda part, mode: FullDisk(real_open(part, mode), 100_000))
    assert main(["data", "--source", "kaggle", "--url", url]) == 1
    err = one_line(capsys.readouterr().err)
    part = obtain.downloads_dir() / "dogs-vs-cats.zip.part"
    assert f"The disk is full: no space left while writing {part}" in err and "run the same command again" in err
    assert part.stat().st_size == 100_000
    split_intact(kaggle_split)
    monkeypatch.setattr(dl, "_open_part", real_open)
    assert main(["data", "--source", "kaggle", "--url", url]) == 0
    assert server.ranges("k.zip")[-1] == "bytes=100000-"  # resumed, not started again


# ---------------------------------------------------------------- smaller messages

def test_a_full_disk_while_copying_the_split_names_the_file_written(kaggle_split, monkeypatch, capsys):
    def sendfile_error(src, dst, *a, **k):  # what shutil's fast copy raises: the photo read is the filename
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(src), None, str(dst))

    monkeypatch.setattr(split_mod.shutil, "copyfile", sendfile_error)
    assert main(["data", "--force"]) == 1
    err = one_line(capsys.readouterr().err)
    written = config.small_dataset_dir() / "train" / "cats" / "cat.1.jpg"
    assert f"no space left while writing {written} " in err and "sources" not in err
    split_intact(kaggle_split)


@pytest.mark.parametrize("digits", [300, 5000])
def test_a_photo_number_too_long_for_a_file_name_is_skipped(archives, tmp_path, capsys, digits):
    with zipfile.ZipFile(io.BytesIO(archives["kaggle"][1])) as zf:
        entries_ = {name: zf.read(name) for name in zf.namelist()}
    entries_["train/cat." + "7" * digits + ".jpg"] = fake.photo("cat", 7)
    path = tmp_path / "train.zip"
    path.write_bytes(fake.zip_bytes(entries_))
    assert main(["data", "--source", "kaggle", "--archive", str(path)]) == 0
    assert "1 broken photos skipped" in capsys.readouterr().out
    lines = (config.source_dir("kaggle") / "skipped.txt").read_text().splitlines()
    (line,) = [x for x in lines if "\t" in x]
    assert line.startswith("cat.(number too long).jpg\ttrain/cat.777") and "more than 9 digits" in line


def test_kaggles_train_zip_given_as_microsoft_points_to_kaggle(archives, capsys):
    assert main(["data", "--source", "microsoft", "--archive", str(archives["kaggle"][0])]) == 1
    err = one_line(capsys.readouterr().err)
    assert "is not the microsoft archive: it has the kaggle layout" in err and "--source kaggle" in err
    assert "download it again" not in err


def test_a_manifest_naming_an_unknown_source_says_to_pass_source(kaggle_split, capsys):
    path = config.small_dataset_dir() / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "source": "flickr"}))
    changed = snapshot(config.small_dataset_dir())
    assert main(["data"]) == 1
    err = one_line(capsys.readouterr().err)
    assert "made from source 'flickr', which this course does not know" in err and "--source" in err
    assert snapshot(config.small_dataset_dir()) == changed
    assert main(["status"]) == 0
    assert main(["data", "--source", "kaggle"]) == 0
    assert data.current_source() == "kaggle"


# ---------------------------------------------------------------- Windows and macOS: nothing Unix-only

NO_UNIX = textwrap.dedent("""
    # Imported at start-up (sitecustomize): no fcntl, no resource, no /proc, and no os.kill, as on Windows.
    import builtins, io, os, sys
    sys.modules["fcntl"] = None
    sys.modules["resource"] = None

    def _proc(path):
        try:
            name = os.fsdecode(os.fspath(path))
        except TypeError:
            return False
        return name == "/proc" or name.startswith("/proc/")

    def _guard(real):
        def guarded(path, *args, **kwargs):
            if _proc(path):
                raise FileNotFoundError(2, "No /proc here", os.fspath(path))
            return real(path, *args, **kwargs)
        return guarded

    builtins.open = io.open = _guard(io.open)
    for _name in ("open", "listdir", "scandir", "stat", "lstat"):
        setattr(os, _name, _guard(getattr(os, _name)))

    def _kill(pid, sig):
        sys.stderr.write(f"os.kill({pid}, {sig}) was called\\n")
        os._exit(99)

    os.kill = _kill
""")

IMPORT_ALL = textwrap.dedent("""
    import importlib, pkgutil, sys
    import helpers
    assert sys.modules.get("fcntl", 0) is None and sys.modules.get("resource", 0) is None
    names = [m.name for m in pkgutil.walk_packages(helpers.__path__, "helpers.")]
    for name in names:
        importlib.import_module(name)
    print(len(names), "modules")
""")


def test_helpers_need_no_fcntl_resource_proc_or_kill(archives, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(NO_UNIX)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
           "COURSE_DATA_DIR": str(tmp_path / "data")}

    def run(*args):
        return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300)

    imported = run("-c", IMPORT_ALL)
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert int(imported.stdout.split()[0]) > 30
    for args in (["status"], ["data", "--source", "kaggle", "--archive", str(archives["kaggle"][0])], ["data"],
                 ["status"]):
        result = run("-m", "helpers", *args)
        assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-3000:])
        assert "Traceback" not in result.stderr and "os.kill" not in result.stderr
    assert "source: kaggle" in result.stdout and "train      cats: 100  dogs: 100" in result.stdout
