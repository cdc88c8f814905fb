"""The book's split (section 5.2.2): train/validation/test folders copied from a Kaggle-layout source.

From a folder of cat.N.jpg / dog.N.jpg, images are taken in index order per class: the first
`train` go to training, the next `validation` to validation, the next `test` to test (with Kaggle's
files and the full profile that is the book's cat.0-999 / 1000-1499 / 1500-1999). The split is built
in a temporary folder and swapped in with a rename, so an interrupted run never leaves half a split.

manifest.json records every file's SHA-256, size and modification time (data.manifest checks the files
against it); every run copies a changed file again from the source, and `--force` rebuilds the split from
the source. Only Kaggle-named photos
(cat.N.jpg) are the split's: what a file manager leaves there (.DS_Store, ._cat.1.jpg, Thumbs.db) is
ignored by every reader and mentioned by `status`.
"""
import errno
import json
import os
import re
import shutil
from pathlib import Path

from .. import config
from ..files import (
    sha256_file,  # notebook 03 calls it as split.sha256_file
    write_json_atomic,
)
from .folders import building, data_lock, lock_folder, tidy
from .manifest import (
    MANIFEST,
    check_contents,
    describe_changed,
    file_stat,
    read_manifest,
    recorded_stats,
    source_sums,
)

KAGGLE_NAME = re.compile(r"^(cat|dog)\.(\d+)\.jpe?g$", re.IGNORECASE)
REPAIRING = ".repairing"  # .cat.N.jpg.repairing: a photo being copied again into the split
# Errors of the file being written, not of the photo being read: a message names the file written.
WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}
BOOK_SPLIT_NAMES = {"train": "training", "validation": "validation", "test": "test"}


def source_images(source_dir):
    """{'cats': [paths], 'dogs': [paths]} from a Kaggle-layout folder (dest/train/ or dest/), in index order."""
    source_dir = Path(source_dir)
    folder = source_dir / "train" if (source_dir / "train").is_dir() else source_dir
    if not folder.is_dir():
        raise FileNotFoundError(f"Source folder {source_dir} does not exist: prepare a source first "
                                "(`python -m helpers data`).")
    found = {cls: [] for cls in config.CLASSES}
    for entry in os.scandir(folder):
        match = KAGGLE_NAME.match(entry.name)
        if match and entry.is_file():
            found[config.class_folder(match.group(1))].append((int(match.group(2)), Path(entry.path)))
    return {cls: [p for _, p in sorted(items)] for cls, items in found.items()}


def numbered_source(source_dir, scratch, per_class):
    """A folder where listing 5.4 finds every name it reads: cat.0.jpg ... and dog.0.jpg ..., per_class of each.

    The source's own train folder when it has them all; otherwise (real archives can have gaps: Microsoft's lost
    its broken photos, such as Cat/666.jpg) its first valid pictures, numbered from 0, copied into scratch/source.
    """
    original = Path(source_dir) / "train"
    names = [config.kaggle_name(cls, i) for cls in config.CLASSES for i in range(per_class)]
    missing = [name for name in names if not (original / name).is_file()]
    if not missing:
        return str(original)
    print(f"The source has no {missing[0]} ({len(missing)} of the book's {len(names)} names missing): "
          "its first valid pictures are numbered from 0 in a scratch copy for this demonstration.")
    numbered = Path(scratch) / "source"
    numbered.mkdir()
    images = source_images(source_dir)
    for cls in config.CLASSES:
        for i, path in enumerate(images[cls][:per_class]):
            shutil.copyfile(path, numbered / config.kaggle_name(cls, i))
    return str(numbered)


def _index(path):
    """The N of cat.N.jpg."""
    return int(Path(path).name.split(".")[1])


def pooled_plan(report, images, profile, source_dir, verbose=True):
    """The split plan for a source whose archive has its own validation folder (Google's), else None.

    report: the source's report.json (helpers.data.archives.read_report), whose pools say which
    indices came from the archive's train and validation folders.

    Train takes the first images of the archive's train folder; validation and test are carved from
    its validation folder (first half, second half), all in index order. Sizes are capped at what the
    folders hold, and the sizes used are printed.
    """
    pools = (report or {}).get("pools", {})
    if "validation" not in pools or "train" not in pools:
        return None
    members = {}
    for cls in config.CLASSES:
        def within(pool, cls=cls):
            r = pools[pool].get(cls)
            return [p for p in images[cls] if r and r["first"] <= _index(p) <= r["last"]]
        members[cls] = {"train": within("train"), "validation": within("validation")}
    n_train = min(len(m["train"]) for m in members.values())
    n_held = min(len(m["validation"]) for m in members.values())
    sizes = {"train": min(profile.train, n_train), "validation": min(profile.validation, n_held // 2)}
    sizes["test"] = min(profile.test, n_held - sizes["validation"])
    if min(sizes.values()) < 1:
        raise ValueError(f"The {report['source']} images in {source_dir} hold {n_train} train and {n_held} "
                         "validation images per class: too few to make a split.")
    plan = {}
    for cls in config.CLASSES:
        held = members[cls]["validation"]
        plan[("train", cls)] = members[cls]["train"][:sizes["train"]]
        plan[("validation", cls)] = held[:sizes["validation"]]
        plan[("test", cls)] = held[sizes["validation"]:sizes["validation"] + sizes["test"]]
    if verbose:
        wanted = profile.split_sizes()
        note = ("" if sizes == wanted else
                f" (the {profile.name} profile asks for {wanted['train']}/{wanted['validation']}/"
                f"{wanted['test']}; the archive holds {n_train} train and {n_held} validation per class)")
        print(f"{report['source']}: the archive has no test split, so validation and test are carved "
              f"from its validation folder. Sizes used per class: train {sizes['train']}, validation "
              f"{sizes['validation']}, test {sizes['test']}{note}.")
    return plan


def plan_split(images, profile):
    """{(split, cls): [source paths]}: first `train` per class, then `validation`, then `test`."""
    sizes = profile.split_sizes()
    plan = {}
    for cls in config.CLASSES:
        start = 0
        for split in config.SPLITS:
            plan[(split, cls)] = images[cls][start:start + sizes[split]]
            start += sizes[split]
    return plan


def check_enough(images, profile, source_dir, label=None):
    """Raise a clear error when a class has fewer images than the profile needs.

    label: how to name the source in the message (default: source_dir).
    """
    need = profile.per_class
    have = {cls: len(images[cls]) for cls in config.CLASSES}
    if min(have.values()) < need:
        smallest = min(config.PROFILES.values(), key=lambda p: p.per_class)
        fix = ("Use a bigger source" + (f" or COURSE_PROFILE={smallest.name}" if profile.name != smallest.name
                                        else f" (the {profile.name} profile is the smallest)"))
        raise ValueError(
            f"Too few images in {label or source_dir}: found {have['cats']} cats and {have['dogs']} dogs, "
            f"the {profile.name} profile needs {need} of each ({profile.train} train + "
            f"{profile.validation} validation + {profile.test} test). {fix}; data prepared earlier was not "
            "changed.")


def is_split_photo(entry):
    """True for a photo of the split: a regular, Kaggle-named file (cat.N.jpg), not hidden."""
    name = entry.name
    return bool(KAGGLE_NAME.match(name)) and entry.is_file(follow_symlinks=False)


def split_photos(folder):
    """The photos of one split folder (e.g. train/cats), in index order; anything else there is ignored."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [(int(KAGGLE_NAME.match(e.name).group(2)), Path(e.path)) for e in os.scandir(folder) if is_split_photo(e)]
    return [p for _, p in sorted(found)]


def not_photos(dest=None):
    """Relative paths of what the split's class folders hold besides its photos (.DS_Store, Thumbs.db, ...)."""
    dest = Path(dest) if dest is not None else config.small_dataset_dir()
    found = []
    for split in config.SPLITS:
        for cls in config.CLASSES:
            folder = dest / split / cls
            if folder.is_dir():
                found += sorted(f"{split}/{cls}/{e.name}" for e in os.scandir(folder) if not is_split_photo(e))
    return found


def split_counts(dest=None):
    """{split: {cls: number of images}} found on disk (0 for missing folders)."""
    dest = Path(dest) if dest is not None else config.small_dataset_dir()
    counts = {}
    for split in config.SPLITS:
        counts[split] = {}
        for cls in config.CLASSES:
            folder = dest / split / cls
            counts[split][cls] = len(split_photos(folder))
    return counts


def _expected_files(plan):
    """Relative paths (split/cls/name) the plan will write."""
    return sorted(f"{split}/{cls}/{p.name}" for (split, cls), paths in plan.items() for p in paths)


def _plan_sources(plan):
    """{'split/cls/name': source path} of a plan."""
    return {f"{split}/{cls}/{p.name}": p for (split, cls), paths in plan.items() for p in paths}


def is_complete(dest, plan, source, source_dir=None):
    """True when dest already holds exactly this plan's files from this source (by name and count).

    With source_dir, the source's SHA256SUMS (when it has one) must also list the photos the split was
    made from: a new archive whose files have the same names makes the split again.
    """
    manifest = read_manifest(dest)
    if not manifest or manifest.get("source") != source:
        return False
    if sorted(manifest.get("files", {})) != _expected_files(plan):
        return False
    wanted = {split: {cls: len(plan[(split, cls)]) for cls in config.CLASSES} for split in config.SPLITS}
    if split_counts(dest) != wanted:
        return False
    sums = source_sums(source_dir) if source_dir is not None else None
    if sums is not None:
        listed = manifest["files"]
        return all(sums.get(f"train/{src.name}") == listed[rel] for rel, src in _plan_sources(plan).items())
    return True


def _copy_photo(src, target):
    """Copy a photo with its modification time (so a split made again records the same manifest); a full disk
    (or the like) names the file being written, not the photo read."""
    try:
        shutil.copyfile(src, target)
        mtime = os.stat(src).st_mtime_ns
        os.utime(target, ns=(mtime, mtime))
    except OSError as err:
        if err.errno in WRITE_ERRORS:
            raise OSError(err.errno, err.strerror, str(target)) from None
        raise


def _repair(dest, manifest, plan, changed, stats, verbose):
    """Copy the changed files again from the source, which must still hold the photos the split recorded.

    A source photo that changed too is named in a ValueError (nothing is copied): `--force` prepares the
    source again (from its archive, or drawn again) and the split with it.
    """
    sources = _plan_sources(plan)
    for rel in changed:
        src = sources.get(rel)
        if src is None or not src.is_file() or sha256_file(src) != manifest["files"][rel]:
            raise ValueError(f"{describe_changed([rel], dest)} changed since the split was made, and so did the "
                             f"source photo it was copied from ({src}): run `python -m helpers data --force` to "
                             "prepare the source and the split again.")
    for rel in changed:
        target = dest / rel
        tmp = target.with_name(f".{target.name}{REPAIRING}")
        try:
            _copy_photo(sources[rel], tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        stats[rel] = file_stat(target)
    if verbose:
        print(f"{describe_changed(changed, dest)} had changed since the split was made: copied again from "
              "the source.", flush=True)


def print_counts(counts):
    """Print the per-folder counts the way the book does."""
    for split in config.SPLITS:
        for cls in config.CLASSES:
            print(f"total {BOOK_SPLIT_NAMES[split]} {config.kaggle_prefix(cls)} images:", counts[split][cls])


def _write_split(tmp, plan, source, profile):
    """Copy the plan's files into tmp and write the manifest; return the counts."""
    from tqdm.auto import tqdm

    files, stats = {}, {}
    total = sum(len(v) for v in plan.values())
    with tqdm(total=total, desc="copying the split", unit="img", disable=total < 500) as bar:
        for (split, cls), paths in plan.items():
            folder = tmp / split / cls
            folder.mkdir(parents=True, exist_ok=True)
            for src in paths:
                _copy_photo(src, folder / src.name)
                files[f"{split}/{cls}/{src.name}"] = sha256_file(folder / src.name)
                stats[f"{split}/{cls}/{src.name}"] = file_stat(folder / src.name)
                bar.update()
    counts = {split: {cls: len(plan[(split, cls)]) for cls in config.CLASSES} for split in config.SPLITS}
    manifest = {"source": source, "profile": profile.name, "counts": counts, "files": dict(sorted(files.items())),
                "stats": dict(sorted(stats.items()))}
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return counts


def _keep(dest, plan, verbose):
    """Check the complete split's contents against its manifest, copying changed files again; return True."""
    manifest = read_manifest(dest)
    for rel in not_photos(dest):  # a repair's copy that an interrupted run left
        if rel.endswith(REPAIRING):
            (dest / rel).unlink(missing_ok=True)
    changed, stats = check_contents(dest, manifest)
    if changed:
        _repair(dest, manifest, plan, changed, stats, verbose)
    if stats != recorded_stats(manifest):
        write_json_atomic(dest / MANIFEST, {**manifest, "stats": dict(sorted(stats.items()))})
    return True


def make_small_dataset(source_dir, dest=None, profile=None, force=False, source="synthetic", verbose=True,
                       plan=None, label=None, before_swap=None):
    """Build the book's train/validation/test split from a Kaggle-layout folder; return the counts dict.

    plan: {(split, cls): [paths]} when the source decides its own split (see data.prepare); by
    default the first images of each class in index order (plan_split). label: how to name the source
    in messages. before_swap: called once the new split is complete (or the split is kept), before it
    is swapped in (data.prepare swaps a new source in there). A complete split is kept after its
    contents were checked (see check_contents); force makes it again.
    """
    profile = profile if isinstance(profile, config.Profile) else config.get_profile(profile)
    dest = Path(dest) if dest is not None else config.small_dataset_dir()
    if plan is None:
        images = source_images(source_dir)
        check_enough(images, profile, source_dir, label)  # before anything is written
        plan = plan_split(images, profile)
    with data_lock(lock_folder(dest)):
        tidy(dest)  # on every run: put back an interrupted swap's split, delete earlier runs' folders
        if not force and is_complete(dest, plan, source, source_dir) and _keep(dest, plan, verbose):
            if before_swap is not None:
                before_swap()
            counts = split_counts(dest)
            if verbose:
                print(f"Split already complete in {dest.name}/ ({source}, {profile.name} profile): kept.")
        else:
            with building(dest) as tmp:
                counts = _write_split(tmp, plan, source, profile)
                if before_swap is not None:
                    before_swap()
    if verbose:
        print_counts(counts)
        extra = not_photos(dest)
        if extra:
            print(f"Note: {len(extra)} file(s) in {dest.name}/ are not photos of the split and are ignored "
                  f"(e.g. {extra[0]}); delete them if a tool that reads the folders trips over them.")
    return counts
