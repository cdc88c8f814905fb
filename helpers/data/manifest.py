"""The split's manifest.json: read back, and the split's files checked against what it records.

data.split writes manifest.json with each file's SHA-256, size and modification time. A check compares each
file's size and time with the record (fast) and hashes only the files whose size or time differ; a real
source's SHA256SUMS says which photos a split was made from.
"""
import json
import os
from pathlib import Path

from .. import config
from ..files import sha256_file

MANIFEST = "manifest.json"
SOURCE_SUMS = "SHA256SUMS"  # a real source's checksums (`sha256sum -c` format), written by data.archives


def _valid_manifest(manifest):
    """True when a parsed manifest has the types data.split writes (source, files, counts, profile).

    Its "stats" (size and time of each file) are checked where they are used: without them every file is hashed.
    """
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

    'damaged': manifest.json cannot be read or does not hold what data.split writes; the split is
    then present but unverified, and `python -m helpers data` rebuilds it.
    """
    dest = Path(dest) if dest is not None else config.small_dataset_dir()
    path = dest / MANIFEST
    if not path.exists():
        return "missing", None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # RecursionError: JSON nested too deeply to read
        return "damaged", None
    return ("ok", manifest) if _valid_manifest(manifest) else ("damaged", None)


def read_manifest(dest=None):
    """The split's manifest.json as a dict, or None when there is none (or it is unreadable or ill-typed)."""
    return manifest_state(dest)[1]


def source_sums(source_dir):
    """{'train/cat.N.jpg': sha256} from a real source's SHA256SUMS, or None (a synthetic source has none)."""
    try:
        text = (Path(source_dir) / SOURCE_SUMS).read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None
    sums = {}
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        if line.strip():
            sums[name] = digest
    return sums


def file_stat(path):
    """[size, modification time in ns] of a file, as manifest.json records them."""
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns]


def recorded_stats(manifest):
    """The manifest's {rel: [size, mtime_ns]} where well-typed (an older manifest has none: {})."""
    stats = manifest.get("stats")
    if not isinstance(stats, dict):
        return {}
    return {k: v for k, v in stats.items()
            if isinstance(v, list) and len(v) == 2 and all(type(x) is int for x in v)}


def check_contents(dest, manifest, full=False):
    """(changed, stats) of the split's files against manifest.json.

    Each file's size and modification time are compared with the record; only the files where they
    differ (every file with full=True, or without a record) are hashed. changed: the relative paths whose
    content is not the recorded one (or that cannot be read); stats: the size and time of every file
    whose content is right, to record.
    """
    dest = Path(dest)
    recorded = recorded_stats(manifest)
    changed, stats = [], {}
    for rel, digest in manifest["files"].items():
        path = dest / rel
        try:
            now = file_stat(path)
            if (full or recorded.get(rel) != now) and (not path.is_file() or sha256_file(path) != digest):
                changed.append(rel)
                continue
        except OSError:
            changed.append(rel)
            continue
        stats[rel] = now
    return changed, stats


def describe_changed(changed, dest):
    """'train/cats/cat.3.jpg in cats_and_dogs_small/' (and how many more): files whose content changed."""
    more = f" and {len(changed) - 1} more file(s)" if len(changed) > 1 else ""
    return f"{changed[0]}{more} in {Path(dest).name}/"

