"""The book's split (section 5.2.2): train/validation/test folders copied from a Kaggle-layout source.

From a folder of cat.N.jpg / dog.N.jpg, images are taken in index order per class: the first
`train` go to training, the next `validation` to validation, the next `test` to test (with Kaggle's
files and the full profile that is the book's cat.0-999 / 1000-1499 / 1500-1999). The split is built
in a temporary folder and swapped in with a rename, so an interrupted run never leaves half a split.
"""
import json
import os
import re
import shutil
from pathlib import Path

from .. import config
from ..files import sha256_file  # notebook 03 calls it as split.sha256_file
from .folders import building, data_lock, lock_folder, tidy

KAGGLE_NAME = re.compile(r"^(cat|dog)\.(\d+)\.jpe?g$", re.IGNORECASE)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
MANIFEST = "manifest.json"
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
        def within(pool):
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


def check_enough(images, profile, source_dir):
    """Raise a clear error when a class has fewer images than the profile needs."""
    need = profile.per_class
    have = {cls: len(images[cls]) for cls in config.CLASSES}
    if min(have.values()) < need:
        raise ValueError(
            f"Too few images in {source_dir}: found {have['cats']} cats and {have['dogs']} dogs, "
            f"the {profile.name} profile needs {need} of each ({profile.train} train + "
            f"{profile.validation} validation + {profile.test} test). Use a bigger source or "
            "COURSE_PROFILE=quick.")


def split_counts(dest=None):
    """{split: {cls: number of images}} found on disk (0 for missing folders)."""
    dest = Path(dest) if dest is not None else config.small_dataset_dir()
    counts = {}
    for split in config.SPLITS:
        counts[split] = {}
        for cls in config.CLASSES:
            folder = dest / split / cls
            counts[split][cls] = (sum(1 for e in os.scandir(folder) if Path(e.name).suffix.lower() in IMAGE_SUFFIXES)
                                  if folder.is_dir() else 0)
    return counts


def _valid_manifest(manifest):
    """True when a parsed manifest has the types this module writes (source, files, counts, profile)."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("source"), str):
        return False
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        return False
    if "profile" in manifest and not isinstance(manifest["profile"], str):
        return False
    counts = manifest.get("counts")
    if counts is None:
        return True
    return isinstance(counts, dict) and all(
        isinstance(counts.get(split), dict)
        and all(type(counts[split].get(cls)) is int for cls in config.CLASSES) for split in config.SPLITS)


def manifest_state(dest=None):
    """('missing' | 'damaged' | 'ok', manifest or None) for the split in dest.

    'damaged': manifest.json cannot be read or does not hold what this module writes; the split is
    then present but unverified, and `python -m helpers data` rebuilds it.
    """
    dest = Path(dest) if dest is not None else config.small_dataset_dir()
    path = dest / MANIFEST
    if not path.exists():
        return "missing", None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "damaged", None
    return ("ok", manifest) if _valid_manifest(manifest) else ("damaged", None)


def read_manifest(dest=None):
    """The split's manifest.json as a dict, or None when there is none (or it is unreadable or ill-typed)."""
    return manifest_state(dest)[1]


def _expected_files(plan):
    """Relative paths (split/cls/name) the plan will write."""
    return sorted(f"{split}/{cls}/{p.name}" for (split, cls), paths in plan.items() for p in paths)


def is_complete(dest, plan, source):
    """True when dest already holds exactly this plan's files from this source."""
    manifest = read_manifest(dest)
    if not manifest or manifest.get("source") != source:
        return False
    if sorted(manifest.get("files", {})) != _expected_files(plan):
        return False
    wanted = {split: {cls: len(plan[(split, cls)]) for cls in config.CLASSES} for split in config.SPLITS}
    return split_counts(dest) == wanted


def print_counts(counts):
    """Print the per-folder counts the way the book does."""
    for split in config.SPLITS:
        for cls in config.CLASSES:
            print(f"total {BOOK_SPLIT_NAMES[split]} {config.kaggle_prefix(cls)} images:", counts[split][cls])


def _write_split(tmp, plan, source, profile):
    """Copy the plan's files into tmp and write the manifest; return the counts."""
    from tqdm.auto import tqdm

    files = {}
    total = sum(len(v) for v in plan.values())
    with tqdm(total=total, desc="copying the split", unit="img", disable=total < 500) as bar:
        for (split, cls), paths in plan.items():
            folder = tmp / split / cls
            folder.mkdir(parents=True, exist_ok=True)
            for src in paths:
                shutil.copyfile(src, folder / src.name)
                files[f"{split}/{cls}/{src.name}"] = sha256_file(folder / src.name)
                bar.update()
    counts = {split: {cls: len(plan[(split, cls)]) for cls in config.CLASSES} for split in config.SPLITS}
    manifest = {"source": source, "profile": profile.name, "counts": counts, "files": dict(sorted(files.items()))}
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return counts


def make_small_dataset(source_dir, dest=None, profile=None, force=False, source="synthetic", verbose=True,
                       plan=None):
    """Build the book's train/validation/test split from a Kaggle-layout folder; return the counts dict.

    plan: {(split, cls): [paths]} when the source decides its own split (see data.prepare); by
    default the first images of each class in index order (plan_split).
    """
    profile = profile if isinstance(profile, config.Profile) else config.get_profile(profile)
    dest = Path(dest) if dest is not None else config.small_dataset_dir()
    if plan is None:
        images = source_images(source_dir)
        check_enough(images, profile, source_dir)  # before anything is written
        plan = plan_split(images, profile)
    with data_lock(lock_folder(dest)):
        tidy(dest)  # on every run: put back an interrupted swap's split, delete dead runs' folders
        if not force and is_complete(dest, plan, source):
            counts = split_counts(dest)
            if verbose:
                print(f"Split already complete in {dest.name}/ ({source}, {profile.name} profile): kept.")
        else:
            with building(dest) as tmp:
                counts = _write_split(tmp, plan, source, profile)
    if verbose:
        print_counts(counts)
    return counts
