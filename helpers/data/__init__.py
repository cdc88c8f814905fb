"""Data for the course: prepare a source (synthetic or real photos) and the book's small split.

    prepare()            # synthetic source for the active profile -> data/cats_and_dogs_small
    split_counts()       # {split: {cls: n}}
    require_split()      # the split's path, or a clear error saying how to make it

Every run that writes holds a lock on the data folder and first tidies what interrupted runs left
(see folders.py); a split an interrupted swap left aside is put back by any call that reads it. A real
source is prepared beside the one in use and swapped in only when the split made from it is complete,
so a failed run leaves both as they were.
"""
import json
import random
from pathlib import Path

from .. import config
from .folders import building, data_lock, disk_errors, lock_folder, restore_interrupted, tidy, tidy_all
from .manifest import check_contents, manifest_state, read_manifest
from .split import make_small_dataset, not_photos, pooled_plan, source_images, split_counts, split_photos

__all__ = [
    "available_sources",
    "changed_files",
    "current_source",
    "default_source",
    "image_sizes",
    "make_small_dataset",
    "not_photos",
    "prepare",
    "prepare_synthetic",
    "read_manifest",
    "require_split",
    "restore_split",
    "sample_paths",
    "split_counts",
    "split_photos",
    "split_state",
]

SYNTHETIC = "synthetic"
SYNTHETIC_MARKER = "synthetic.json"


def available_sources():
    """Names of every data source: 'synthetic' plus the real-photo ones."""
    from .obtain import SOURCES

    return (SYNTHETIC, *SOURCES)


def _synthetic_complete(folder, per_class, seed):
    """True when folder already holds images 0..per_class-1 of both classes drawn with this seed."""
    try:
        marker = json.loads((folder / SYNTHETIC_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # RecursionError: JSON nested too deeply to read
        return False
    if not isinstance(marker, dict) or type(marker.get("seed")) is not int \
            or type(marker.get("per_class")) is not int:
        return False  # a marker of the wrong type: draw the images again
    if marker["seed"] != seed or marker["per_class"] < per_class:
        return False
    from ..synthetic import CUE_SWAP
    if marker.get("cue_swap") != CUE_SWAP:
        return False  # drawn by an earlier version of the generator: draw them again
    train = folder / "train"
    return all((train / config.kaggle_name(cls, i)).is_file() for cls in config.CLASSES for i in range(per_class))


def prepare_synthetic(per_class, seed=config.SEED, force=False, workers=None):
    """Draw the synthetic source (Kaggle layout) into data/sources/synthetic unless already complete."""
    from .. import synthetic

    folder = config.source_dir(SYNTHETIC)
    with data_lock(lock_folder(folder)):
        tidy(folder)
        if not force and _synthetic_complete(folder, per_class, seed):
            return folder
        with building(folder) as tmp:
            synthetic.generate(tmp, per_class, seed=seed, workers=workers)
            (tmp / SYNTHETIC_MARKER).write_text(json.dumps({"seed": seed, "per_class": per_class,
                                                            "cue_swap": synthetic.CUE_SWAP}),
                                                encoding="utf-8")
    return folder


def check_request(source, archive=None, url=None, sha256=None):
    """Raise a clear error for a source name or --archive/--url/--sha256 that cannot work, before any work."""
    if source == SYNTHETIC:
        if any(v is not None for v in (archive, url, sha256)):
            raise ValueError("--archive/--url/--sha256 belong to real-photo sources, not 'synthetic'.")
        return
    from .obtain import check_arguments, get_source

    get_source(source)
    check_arguments(archive, url, sha256)


def default_source(dest=None):
    """The source `data` uses without --source: the current split's, else synthetic; a clear error when the
    split names a source this course does not know."""
    current = current_source(dest)
    if current is None:
        return SYNTHETIC
    if current not in available_sources():
        where = Path(dest) if dest is not None else config.small_dataset_dir()
        raise ValueError(f"The split in {where} says it was made from source {current!r}, which this course does "
                         f"not know (is its manifest.json damaged?). Choose the source: python -m helpers data "
                         f"--source {'|'.join(available_sources())} (make data SOURCE=...).")
    return current


def prepare(source=SYNTHETIC, profile=None, force=False, archive=None, url=None, sha256=None):
    """Make sure the source and the book's split exist for the profile; return the split's path.

    source=None keeps the source of the current split (synthetic when nothing is prepared), decided once
    the data folder's lock is held. One run at a time per data folder; each starts by tidying what
    interrupted runs left; disk errors (full, read-only, no permission) come back as one sentence naming
    the path and what to do. A real source is made beside the one in use and swapped in only with its
    complete split: a run that fails leaves the prepared source and split as they were.
    """
    profile = profile if isinstance(profile, config.Profile) else config.get_profile(profile)
    folder = config.data_dir()
    with disk_errors(folder):
        if source is not None:
            source = str(source).strip().lower()
            check_request(source, archive, url, sha256)
        with data_lock(folder):
            tidy_all(folder, config.SMALL_DATASET, folder / "sources")
            if source is None:
                source = default_source()
                check_request(source, archive, url, sha256)
            if source == SYNTHETIC:
                redrawn = not _synthetic_complete(config.source_dir(SYNTHETIC), profile.per_class, config.SEED)
                source_folder = prepare_synthetic(profile.per_class, force=force)
                make_small_dataset(source_folder, profile=profile, force=force or redrawn, source=source)
            else:
                _prepare_real(source, profile, force, archive, url, sha256)
    return config.small_dataset_dir()


def _prepare_real(source, profile, force, archive, url, sha256):
    """A real source and its split: the new photos (if any) stay beside the old ones until the split is made."""
    from .sources import fetching, read_report

    with fetching(source, config.source_dir(source), archive=archive, url=url, sha256=sha256,
                  force=force) as staged:
        images = source_images(staged.folder)
        # an archive with its own validation folder (Google's) splits by it
        plan = pooled_plan(read_report(staged.folder), images, profile, staged.label)
        make_small_dataset(staged.folder, profile=profile, force=force, source=source, plan=plan,
                           label=staged.label, before_swap=staged.commit)


def restore_split(dest=None):
    """Put back a split that an interrupted run left as .<name>.old-N (dest missing, no run holding the lock); return
    that path or None."""
    dest = Path(dest) if dest is not None else config.small_dataset_dir()
    try:
        return restore_interrupted(dest)
    except OSError:  # a read-only data folder: the next `python -m helpers data` reports it
        return None


def _guess_source(dest):
    """The prepared source whose files the split holds (compared byte for byte), or None."""
    samples = []
    for split in config.SPLITS:
        for cls in config.CLASSES:
            samples += sorted(split_photos(dest / split / cls))[:1]
    root = config.data_dir() / "sources"
    if not samples or not root.is_dir():
        return None
    for candidate in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            if all((candidate / "train" / s.name).read_bytes() == s.read_bytes() for s in samples):
                return candidate.name
        except OSError:
            continue
    return None


def changed_files(dest=None):
    """Relative paths of the split's files whose content is not the one manifest.json records (fast: only
    the files whose size or modification time differ are hashed); [] without a manifest."""
    dest = Path(dest) if dest is not None else config.small_dataset_dir()
    manifest = read_manifest(dest)
    return check_contents(dest, manifest)[0] if manifest else []


def split_state(dest=None):
    """('missing' | 'unverified' | 'ok', source or None) of the split; unverified: manifest.json missing or damaged."""
    dest = Path(dest) if dest is not None else config.small_dataset_dir()
    restore_split(dest)
    state, manifest = manifest_state(dest)
    if manifest is not None:
        return "ok", manifest["source"]
    if state == "missing" and not any(n for per in split_counts(dest).values() for n in per.values()):
        return "missing", None
    return "unverified", _guess_source(dest)


def current_source(dest=None):
    """Which source the prepared split came from ('synthetic', ...), or None when there is none.

    With a damaged manifest, the source whose files the split holds (unverified).
    """
    return split_state(dest)[1]


def require_split(dest=None):
    """The prepared split's path; a clear error telling how to make it when it is missing or empty."""
    dest = Path(dest) if dest is not None else config.small_dataset_dir()
    restore_split(dest)
    counts = split_counts(dest)
    empty = [f"{split}/{cls}" for split, per in counts.items() for cls, n in per.items() if n == 0]
    if empty:
        what = "No data set" if len(empty) == 6 else f"Incomplete data set (empty: {', '.join(empty)})"
        raise FileNotFoundError(f"{what} in {dest}: run notebook 03_dataset or `make data` "
                                "(python -m helpers data) first.")
    return dest


def sample_paths(split="train", n=8, seed=config.SEED, dest=None):
    """n image paths from a split, alternating cat, dog, cat, ..., drawn reproducibly from seed."""
    if split not in config.SPLITS:
        raise ValueError(f"Unknown split {split!r}: use one of {', '.join(config.SPLITS)}.")
    root = require_split(dest) / split
    rng = random.Random(seed)
    picks = {}
    for k, cls in enumerate(config.CLASSES):
        files = sorted(split_photos(root / cls), key=lambda p: p.name)
        want = n // 2 + (1 if k < n % 2 else 0)
        picks[cls] = rng.sample(files, min(want, len(files)))
    out = []
    for i in range(max(len(v) for v in picks.values())):
        out.extend(picks[cls][i] for cls in config.CLASSES if i < len(picks[cls]))
    return out


def image_sizes(split="train", dest=None):
    """(width, height) of every image in a split, both classes, read from the file headers."""
    from PIL import Image

    root = require_split(dest) / split
    sizes = []
    for cls in config.CLASSES:
        for path in sorted(split_photos(root / cls)):
            with Image.open(path) as img:
                sizes.append(img.size)
    return sizes
