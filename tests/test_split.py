"""The book's split: index order, counts, manifest, idempotence, rename swap, the too-few error."""
import hashlib
import json
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from helpers import config, data
from helpers.data import folders
from helpers.data import split as split_mod

TINY = config.Profile(name="tiny", train=3, validation=2, test=2,
        baseline_epochs=1, baseline_batch=20, augmented_epochs=1, augmented_batch=32, description="for tests")
# Non-contiguous, unsorted-looking indices: index order is numeric (cat.10 after cat.9).
INDICES = [0, 2, 3, 5, 9, 10, 11, 20, 100]


def kaggle_folder(root, indices=INDICES, classes=("cat", "dog")):
    """A Kaggle-layout source: root/train/cat.N.jpg with tiny random JPEGs, plus files to ignore."""
    train = root / "train"
    train.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for cls in classes:
        for i in indices:
            pixels = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(train / f"{cls}.{i}.jpg")
    (train / "notes.txt").write_text("not an image")
    (train / "cat.x.jpg").write_bytes(b"not kaggle-named")
    return root


@pytest.fixture
def source(tmp_path):
    return kaggle_folder(tmp_path / "src")


def tree(dest):
    """{relative path: sha256} of every file under dest."""
    return {str(p.relative_to(dest)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(dest.rglob("*")) if p.is_file()}


def entries(folder):
    """Names in folder, without the data folder's lock file and its owner note (not leftovers: they stay)."""
    return sorted(p.name for p in folder.iterdir() if p.name not in (folders.LOCK_FILE, folders.OWNER_FILE))


def names(dest, split, cls):
    return sorted((p.name for p in (dest / split / cls).iterdir()), key=lambda n: int(n.split(".")[1]))


def test_index_order_first_train_then_validation_then_test(source, capsys):
    counts = data.make_small_dataset(source, profile=TINY, source="synthetic")
    dest = config.small_dataset_dir()
    assert counts == {"train": {"cats": 3, "dogs": 3}, "validation": {"cats": 2, "dogs": 2},
                      "test": {"cats": 2, "dogs": 2}}
    assert names(dest, "train", "cats") == ["cat.0.jpg", "cat.2.jpg", "cat.3.jpg"]
    assert names(dest, "validation", "cats") == ["cat.5.jpg", "cat.9.jpg"]
    assert names(dest, "test", "cats") == ["cat.10.jpg", "cat.11.jpg"]
    assert names(dest, "test", "dogs") == ["dog.10.jpg", "dog.11.jpg"]
    assert data.split_counts() == counts
    out = capsys.readouterr().out
    # The book's printout, one line per folder.
    assert "total training cat images: 3\n" in out and "total validation dog images: 2\n" in out
    assert "total test cat images: 2\n" in out


def test_files_are_byte_copies_and_manifest_lists_them(source):
    data.make_small_dataset(source, profile=TINY, source="kaggle")
    dest = config.small_dataset_dir()
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["source"] == "kaggle" and manifest["profile"] == "tiny"
    assert manifest["counts"]["train"] == {"cats": 3, "dogs": 3}
    assert len(manifest["files"]) == 14
    for rel, digest in manifest["files"].items():
        original = source / "train" / rel.split("/")[-1]
        assert hashlib.sha256(original.read_bytes()).hexdigest() == digest
        assert (dest / rel).read_bytes() == original.read_bytes()
    assert data.current_source() == "kaggle"


def test_full_sizes_match_the_books_file_ranges(tmp_path):
    src = tmp_path / "big"
    (src / "train").mkdir(parents=True)
    for cls in ("cat", "dog"):
        for i in range(2000):
            (src / "train" / f"{cls}.{i}.jpg").write_bytes(b"x")
    plan = split_mod.plan_split(split_mod.source_images(src), config.get_profile("full"))
    # Section 5.2.2: cat.0-999 train, cat.1000-1499 validation, cat.1500-1999 test.
    assert [p.name for p in plan[("train", "cats")]] == [f"cat.{i}.jpg" for i in range(1000)]
    assert [p.name for p in plan[("validation", "dogs")]] == [f"dog.{i}.jpg" for i in range(1000, 1500)]
    assert [p.name for p in plan[("test", "cats")]] == [f"cat.{i}.jpg" for i in range(1500, 2000)]


def test_second_run_keeps_the_split(source, capsys):
    data.make_small_dataset(source, profile=TINY)
    dest = config.small_dataset_dir()
    before = tree(dest)
    inode = dest.stat().st_ino
    capsys.readouterr()
    data.make_small_dataset(source, profile=TINY)
    assert "kept" in capsys.readouterr().out
    assert tree(dest) == before and dest.stat().st_ino == inode


def test_incomplete_or_different_split_is_rebuilt(source):
    data.make_small_dataset(source, profile=TINY)
    dest = config.small_dataset_dir()
    before = tree(dest)
    (dest / "train" / "cats" / "cat.0.jpg").unlink()
    data.make_small_dataset(source, profile=TINY)
    assert tree(dest) == before
    bigger = config.Profile(name="tiny2", train=4, validation=2, test=2,
        baseline_epochs=1, baseline_batch=20, augmented_epochs=1, augmented_batch=32, description="for tests")
    counts = data.make_small_dataset(source, profile=bigger)
    assert counts["train"] == {"cats": 4, "dogs": 4}
    assert names(dest, "validation", "cats") == ["cat.9.jpg", "cat.10.jpg"]
    assert data.split_counts()["train"]["cats"] == 4


def test_forced_rebuild_swaps_in_a_complete_folder(source, monkeypatch):
    data.make_small_dataset(source, profile=TINY)
    dest = config.small_dataset_dir()
    before = tree(dest)
    seen = {}
    real_swap = folders.swap_in

    def spy(tmp, target):
        # At the moment of the swap: the new split is complete elsewhere, the old one untouched.
        seen["tmp"] = tree(tmp)
        seen["old"] = tree(target)
        real_swap(tmp, target)

    monkeypatch.setattr(folders, "swap_in", spy)
    data.make_small_dataset(source, profile=TINY, force=True)
    assert seen["old"] == before and seen["tmp"] == before
    assert tree(dest) == before
    assert entries(dest.parent) == ["cats_and_dogs_small"]  # no leftovers


def test_interrupted_rebuild_leaves_the_old_split(source, monkeypatch):
    data.make_small_dataset(source, profile=TINY)
    dest = config.small_dataset_dir()
    before = tree(dest)
    calls = {"n": 0}
    real_copy = shutil.copyfile

    def failing_copy(src, dst, *a, **k):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real_copy(src, dst, *a, **k)

    monkeypatch.setattr(split_mod.shutil, "copyfile", failing_copy)
    with pytest.raises(KeyboardInterrupt):
        data.make_small_dataset(source, profile=TINY, force=True)
    assert tree(dest) == before
    assert entries(dest.parent) == ["cats_and_dogs_small"]


def test_too_few_images_fails_before_writing(tmp_path, source):
    data.make_small_dataset(source, profile=TINY)
    dest = config.small_dataset_dir()
    before = tree(dest)
    small = kaggle_folder(tmp_path / "small", indices=[0, 1, 2, 3], classes=("cat",))
    kaggle_folder(small, indices=list(range(8)), classes=("dog",))
    with pytest.raises(ValueError) as err:
        data.make_small_dataset(small, profile=TINY, force=True)
    message = str(err.value)
    assert "found 4 cats and 8 dogs" in message and "needs 7 of each" in message
    assert tree(dest) == before
    assert entries(dest.parent) == ["cats_and_dogs_small"]


def test_missing_source_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.make_small_dataset(tmp_path / "nowhere", profile=TINY)


def test_split_counts_and_source_before_anything_exists():
    assert data.split_counts() == {s: {"cats": 0, "dogs": 0} for s in config.SPLITS}
    assert data.current_source() is None


def test_require_split_says_how_to_make_it():
    with pytest.raises(FileNotFoundError, match="make data"):
        data.require_split()


def test_require_split_and_samples_on_a_split(tiny_split):
    assert data.require_split() == tiny_split
    paths = data.sample_paths("train", n=6, seed=1)
    assert [p.parent.name for p in paths] == ["cats", "dogs"] * 3
    assert len(set(paths)) == 6 and all(p.is_file() for p in paths)
    assert data.sample_paths("train", n=6, seed=1) == paths
    assert data.sample_paths("validation", n=3)[0].parent.parent.name == "validation"
    with pytest.raises(ValueError, match="Unknown split"):
        data.sample_paths("holdout")


def test_require_split_names_empty_folders(tiny_split):
    for p in (tiny_split / "test" / "dogs").iterdir():
        p.unlink()
    with pytest.raises(FileNotFoundError, match="test/dogs"):
        data.require_split()


@pytest.fixture
def tiny_profile(monkeypatch):
    """A 'tiny' profile (4/2/2 per class) that config and the command line accept."""
    profile = config.Profile(name="tiny", train=4, validation=2, test=2,
        baseline_epochs=1, baseline_batch=20, augmented_epochs=1, augmented_batch=32, description="for tests")
    monkeypatch.setitem(config.PROFILES, "tiny", profile)
    return profile


def test_prepare_draws_the_synthetic_source_once(tiny_profile, monkeypatch):
    from helpers import synthetic

    calls = []
    real_generate = synthetic.generate
    monkeypatch.setattr(synthetic, "generate", lambda *a, **k: calls.append(a) or real_generate(*a, **k))
    dest = data.prepare("synthetic", profile="tiny")
    assert dest == config.small_dataset_dir()
    assert data.split_counts() == {"train": {"cats": 4, "dogs": 4}, "validation": {"cats": 2, "dogs": 2},
                                   "test": {"cats": 2, "dogs": 2}}
    assert data.current_source() == "synthetic"
    source = config.source_dir("synthetic")
    assert len(list((source / "train").glob("*.jpg"))) == 16
    assert sorted(p.name for p in source.parent.iterdir()) == ["synthetic"]  # temp folder renamed
    data.prepare("synthetic", profile="tiny")
    assert len(calls) == 1  # complete source reused
    monkeypatch.setenv("COURSE_PROFILE", "tiny")
    smaller = config.Profile(name="tiny", train=2, validation=1, test=1,
        baseline_epochs=1, baseline_batch=20, augmented_epochs=1, augmented_batch=32, description="for tests")
    monkeypatch.setitem(config.PROFILES, "tiny", smaller)
    data.prepare()
    assert len(calls) == 1 and data.split_counts()["train"] == {"cats": 2, "dogs": 2}


def test_source_from_an_earlier_generator_is_redrawn_and_the_split_rebuilt(tiny_profile):
    import hashlib
    import json

    data.prepare("synthetic", profile="tiny")
    marker = config.source_dir("synthetic") / "synthetic.json"
    first = config.small_dataset_dir() / "train" / "cats" / "cat.0.jpg"
    drawn_now = hashlib.sha256(first.read_bytes()).hexdigest()
    old = json.loads(marker.read_text())
    del old["cue_swap"]  # what the generator wrote before cue_swap existed
    marker.write_text(json.dumps(old))
    first.write_bytes(b"an image drawn by the old generator")
    data.prepare("synthetic", profile="tiny")
    assert json.loads(marker.read_text())["cue_swap"] == synthetic_cue_swap()
    assert hashlib.sha256(first.read_bytes()).hexdigest() == drawn_now  # split rebuilt from the new drawing


def synthetic_cue_swap():
    from helpers import synthetic
    return synthetic.CUE_SWAP


def test_prepare_rejects_archive_options_for_synthetic(tiny_profile):
    with pytest.raises(ValueError, match="real-photo"):
        data.prepare("synthetic", profile="tiny", archive="photos.zip")
    assert not config.data_dir().exists()


def test_image_sizes_reads_every_image(tiny_split):
    sizes = data.image_sizes("train")
    assert sizes == [(64, 48)] * 12  # conftest writes 6 per class at 64x48


def test_leftovers_are_judged_by_the_lock_not_by_process_ids(source):
    import subprocess
    import sys

    dest = config.small_dataset_dir()
    dest.parent.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    (dest.parent / f".cats_and_dogs_small.tmp-{dead}" / "train").mkdir(parents=True)
    (dest.parent / f".cats_and_dogs_small.old-{dead}").mkdir()
    # A folder named after a running process (pytest's parent) that does not hold the lock: a leftover too.
    (dest.parent / f".cats_and_dogs_small.tmp-{os.getppid()}").mkdir()
    data.make_small_dataset(source, profile=TINY)
    assert entries(dest.parent) == ["cats_and_dogs_small"]


def test_swap_in_restores_the_old_folder_when_the_last_rename_fails(tmp_path, monkeypatch):
    dest, tmp = tmp_path / "split", tmp_path / ".split.tmp-1"
    dest.mkdir()
    (dest / "kept.txt").write_text("old")
    tmp.mkdir()
    (tmp / "new.txt").write_text("new")
    real_rename = type(tmp).rename

    def failing_rename(self, target):
        if self == tmp:
            raise OSError("disk went away")
        return real_rename(self, target)

    monkeypatch.setattr(type(tmp), "rename", failing_rename)
    with pytest.raises(OSError):
        folders.swap_in(tmp, dest)
    assert (dest / "kept.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir() if ".old-" in p.name] == []


def test_numbered_source_is_the_source_when_complete_else_a_numbered_copy(tmp_path, capsys):
    complete = kaggle_folder(tmp_path / "complete", indices=range(4))
    assert split_mod.numbered_source(complete, tmp_path, 4) == str(complete / "train")
    assert not (tmp_path / "source").exists() and capsys.readouterr().out == ""
    gaps = kaggle_folder(tmp_path / "gaps")  # INDICES: cat.1.jpg is missing
    numbered = split_mod.numbered_source(gaps, tmp_path, 4)
    assert "no cat.1.jpg" in capsys.readouterr().out
    assert sorted(os.listdir(numbered)) == sorted(f"{c}.{i}.jpg" for c in ("cat", "dog") for i in range(4))
    for i, index in enumerate(INDICES[:4]):  # the first valid pictures, in index order, numbered from 0
        assert (gaps / "train" / f"dog.{index}.jpg").read_bytes() == (tmp_path / "source" / f"dog.{i}.jpg").read_bytes()
