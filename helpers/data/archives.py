"""Reading and checking a photo archive: unsafe entries, layouts, photo entries, JPEG checks, reports.

normalise(zf, pattern, out) writes the valid photos of a zip into out/train/cat.N.jpg (Kaggle's layout),
reading them in bounded batches and skipping every entry that is too large, damaged in the archive or
not a decodable JPEG; write_report records what was written and skipped (report.json, skipped.txt),
and SHA256SUMS lets source_problem check a prepared folder again later.
"""
import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import time
import warnings
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

from PIL import Image, UnidentifiedImageError

from .. import config, images
from ..files import sha256_file
from .download import check_free_space, human_bytes

REPORT = "report.json"
SKIPPED = "skipped.txt"
CHECKSUMS = "SHA256SUMS"  # `sha256sum -c` format: every photo written, checked again by --force
MAX_PHOTO_BYTES = 50 << 20  # a larger archive entry is no photo: skipped without being read
BATCH_PHOTOS = 64  # photos read and checked together ...
BATCH_BYTES = 32 << 20  # ... holding at most about this many bytes in memory
MAX_INDEX_DIGITS = 9  # a photo's number: the releases go to 12,499; a longer one makes no usable file name
NOT_PHOTOS = re.compile(r"(^|/)(__MACOSX/|\._|Thumbs\.db$|\.DS_Store$)", re.IGNORECASE)


class SourceError(RuntimeError):
    """A source or its archive could not be used; the message says why and what to do."""


# ---------------------------------------------------------------- entries and layouts

def unsafe_entry(name):
    """True when a zip entry would land outside the folder it is extracted to (zip slip)."""
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return True
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return ".." in parts


def reject_unsafe(zf, label):
    """Raise SourceError if any entry of the zip escapes its folder or is a symbolic link."""
    for info in zf.infolist():
        is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
        if unsafe_entry(info.filename) or is_link:
            raise SourceError(
                f"{label} contains an unsafe entry {info.filename!r} that points outside the folder it "
                "would be extracted to (a 'zip slip'). Nothing was extracted. The file is damaged or "
                "has been tampered with: download it again from the official address.")


def check_jpeg(data):
    """None when `data` decodes completely with Pillow as a JPEG; otherwise why not."""
    if not data:
        return "empty file"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "Corrupt EXIF data": the pixels still decode
            with Image.open(io.BytesIO(data)) as im:
                if im.format != "JPEG":
                    return f"not a JPEG ({im.format or 'unknown'} image)"
                reason = images.pixel_problem(im.size)  # from the header, before decoding
                if reason:
                    return reason
                im.load()
                if im.width < 1 or im.height < 1:
                    return "no pixels"
    except UnidentifiedImageError:
        return "not an image"
    except Image.DecompressionBombError:
        return "image too large"
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        return f"truncated or corrupt JPEG ({e})"
    return None


def detect_layout(names, layouts):
    """Which layout a list of zip entry names has: a key of `layouts` ({name: photo pattern}), kaggle-outer or None."""
    if any(PurePosixPath(n).name.lower() == "train.zip" for n in names):
        return "kaggle-outer"
    for layout, pattern in layouts.items():
        if any(pattern.fullmatch(n) for n in names):
            return layout
    return None


def photo_entries(zf, pattern):
    """(photos, ignored): photos as (class, index, pool, ZipInfo) in index order; other entries' names."""
    photos, ignored = [], []
    for info in zf.infolist():
        if info.is_dir():
            continue
        m = None if NOT_PHOTOS.search(info.filename) else pattern.fullmatch(info.filename)
        if m is None:
            ignored.append(info.filename)
            continue
        cls = config.class_folder(m.group("cls"))
        pool = m.groupdict().get("pool", "train").lower()
        digits = m.group("index").lstrip("0") or "0"
        photos.append((cls, int(digits) if len(digits) <= MAX_INDEX_DIGITS else TOO_LONG, pool, info))
    pool_order = {"train": 0, "validation": 1}
    photos.sort(key=lambda p: (p[0], pool_order[p[2]], p[1]))
    seen = set()
    for cls, index, _, info in photos:
        if index == TOO_LONG:
            continue  # skipped by normalise with its reason; no file of that name is made
        if (cls, index) in seen:
            raise SourceError(f"The archive holds two images for {config.kaggle_name(cls, index)} "
                              f"(one is {info.filename}); it is not a known release.")
        seen.add((cls, index))
    return photos, ignored


# ---------------------------------------------------------------- reading entries

DAMAGED_ENTRY = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError)


def damaged(error):
    """A short reason for an archive entry that cannot be read (bad CRC, broken compression, ...)."""
    text = str(error).split(" for file ")[0].strip() or type(error).__name__
    return f"damaged in the archive ({text})"


TOO_LONG = 10 ** MAX_INDEX_DIGITS  # the index given to every photo whose number has more digits


def bad_index(index):
    """The reason for a photo whose number is too long to be a file name."""
    return f"its number has more than {MAX_INDEX_DIGITS} digits: not a photo of any release, not read"


def photo_name(cls, index):
    """cat.N.jpg for a photo; cat.(number too long).jpg for one whose number has too many digits."""
    return config.kaggle_name(cls, index) if index < TOO_LONG else f"{config.kaggle_prefix(cls)}.(number too long).jpg"


def too_large(size):
    """The reason for an entry above MAX_PHOTO_BYTES."""
    return (f"too large for a photo ({human_bytes(size)}; the limit is {human_bytes(MAX_PHOTO_BYTES)}), "
            "not read")


def read_entry(zf, info):
    """(bytes, None) for one photo entry, or (None, why not): too large (not read) or damaged."""
    if info.file_size > MAX_PHOTO_BYTES:
        return None, too_large(info.file_size)
    try:
        with zf.open(info) as f:
            data = f.read(MAX_PHOTO_BYTES + 1)
    except DAMAGED_ENTRY as e:
        return None, damaged(e)
    if len(data) > MAX_PHOTO_BYTES:
        return None, too_large(len(data))
    return data, None


def open_inner(zf, inner, label, scratch):
    """The zip archive `inner` held inside `zf`, extracted to `scratch` and opened (Kaggle's train.zip)."""
    check_free_space(scratch.parent, inner.file_size, "unpack train.zip from the Kaggle archive")
    print(f"Unpacking {inner.filename} ({human_bytes(inner.file_size)}) from {label} ...", flush=True)
    try:
        with zf.open(inner) as src, open(scratch, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    except DAMAGED_ENTRY as e:
        raise SourceError(f"train.zip inside {label} is {damaged(e)}: download the archive again.") from None
    try:
        return zipfile.ZipFile(scratch)
    except zipfile.BadZipFile:
        raise SourceError(f"train.zip inside {label} is not a valid zip file; download it again.") from None


# ---------------------------------------------------------------- normalising into Kaggle's layout

def _keep_archive_time(path, info):
    """Give a photo written from the archive the entry's date, as unzip does: preparing the same archive again
    writes the same files, times included (the split's manifest records them)."""
    with contextlib.suppress(OverflowError, ValueError, OSError):
        stamp = time.mktime((*info.date_time, 0, 0, -1))
        os.utime(path, (stamp, stamp))


def _check_batch(executor, items):
    """Check a batch of (photo, data) pairs in parallel; return the reasons (None = valid)."""
    return list(executor.map(check_jpeg, [data for _, data in items]))


def normalise(zf, pattern, out, progress=True, workers=None):
    """Write the valid photos of `zf` to out/train/cat.N.jpg; return the report's counts and lists.

    Photos are read and checked in batches of at most BATCH_PHOTOS entries and about BATCH_BYTES, so
    memory stays bounded whatever the archive holds; an entry that is too large, damaged in the
    archive or not a decodable JPEG is skipped with its reason. SHA256SUMS lists every photo written.
    """
    from tqdm.auto import tqdm

    photos, ignored = photo_entries(zf, pattern)
    check_free_space(out.parent, sum(p[3].file_size for p in photos if p[3].file_size <= MAX_PHOTO_BYTES),
                     "extract the photos")
    (out / "train").mkdir(parents=True)
    counts = {cls: {"valid": 0, "skipped": 0} for cls in config.CLASSES}
    pools = {}
    skipped = []
    sums = []
    workers = workers or min(4, os.cpu_count() or 1)
    batch = []

    def skip(photo, reason):
        cls, index, _, info = photo
        counts[cls]["skipped"] += 1
        skipped.append({"entry": info.filename, "name": photo_name(cls, index), "reason": reason})

    def flush(executor):
        for (photo, data), reason in zip(batch, _check_batch(executor, batch)):
            cls, index, pool, info = photo
            name = config.kaggle_name(cls, index)
            if reason is None:
                (out / "train" / name).write_bytes(data)
                _keep_archive_time(out / "train" / name, info)
                sums.append(f"{hashlib.sha256(data).hexdigest()}  train/{name}")
                counts[cls]["valid"] += 1
                pools.setdefault(pool, {}).setdefault(cls, []).append(index)
            else:
                skip(photo, reason)
        batch.clear()

    with ThreadPoolExecutor(workers) as executor, \
            tqdm(total=len(photos), unit="img", desc="Checking photos", disable=not progress,
                 leave=False) as bar:
        held = 0
        for photo in photos:
            data, reason = (None, bad_index(photo[1])) if photo[1] == TOO_LONG else read_entry(zf, photo[3])
            if reason:
                skip(photo, reason)
                bar.update()
                continue
            batch.append((photo, data))
            held += len(data)
            if len(batch) >= BATCH_PHOTOS or held >= BATCH_BYTES:
                bar.update(len(batch))
                flush(executor)
                held = 0
        bar.update(len(batch))
        flush(executor)
    order = {name: k for k, name in enumerate(photo_name(c, i) for c, i, _, _ in photos)}
    skipped.sort(key=lambda s: order[s["name"]])
    (out / CHECKSUMS).write_text("\n".join(sums) + "\n", encoding="utf-8")
    for cls in config.CLASSES:
        if counts[cls]["valid"] == 0:
            raise SourceError(f"The archive holds no valid {cls} photos; it is not usable.")
    pool_summary = {pool: {cls: {"count": len(ix), "first": min(ix), "last": max(ix)}
                           for cls, ix in by_cls.items()} for pool, by_cls in pools.items()}
    return {"counts": counts, "pools": pool_summary, "skipped": skipped, "ignored": ignored}


# ---------------------------------------------------------------- reports

def write_report(out, report):
    """Write report.json and the human-readable skipped.txt into `out`."""
    (out / REPORT).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    lines = [f"# {len(report['skipped'])} photos of the {report['source']} archive were skipped "
             "(too large, damaged in the archive, or not a decodable JPEG; the reason is on each line):"]
    lines += [f"{s['name']}\t{s['entry']}\t{s['reason']}" for s in report["skipped"]]
    lines += [f"# {len(report['ignored'])} other entries are not photos and were ignored:"]
    lines += report["ignored"]
    (out / SKIPPED).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _valid_report(report):
    """True when a parsed report.json has the types this module writes."""
    if not isinstance(report, dict):
        return False
    if not isinstance(report.get("source"), str) or not isinstance(report.get("archive_sha256"), str):
        return False
    pools = report.get("pools", {})
    return isinstance(pools, dict) and all(
        isinstance(by_cls, dict) and all(
            isinstance(r, dict) and all(type(r.get(k)) is int for k in ("count", "first", "last"))
            for r in by_cls.values()) for by_cls in pools.values())


def read_report(dest):
    """The report.json of a prepared source folder, or None (missing, unreadable or ill-typed)."""
    path = Path(dest) / REPORT
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # RecursionError: JSON nested too deeply to read
        return None
    return report if _valid_report(report) else None


def source_problem(dest, report):
    """Why a prepared source folder differs from what was written (SHA256SUMS), or None when intact."""
    dest = Path(dest)
    try:
        listed = {}
        for line in (dest / CHECKSUMS).read_text(encoding="utf-8").splitlines():
            digest, _, name = line.partition("  ")
            if line.strip():
                listed[name] = digest
    except (OSError, ValueError):
        return f"{CHECKSUMS} is missing or unreadable"
    valid = sum(c.get("valid", 0) for c in report.get("counts", {}).values() if isinstance(c, dict))
    if len(listed) != valid:
        return f"{CHECKSUMS} lists {len(listed)} photos, report.json {valid}"
    present = {f"train/{e.name}" for e in os.scandir(dest / "train")} if (dest / "train").is_dir() else set()
    if present != set(listed):
        extra, missing = sorted(present - set(listed)), sorted(set(listed) - present)
        return "; ".join(filter(None, [missing and f"{len(missing)} photo(s) missing, e.g. {missing[0]}",
                                       extra and f"{len(extra)} file(s) added, e.g. {extra[0]}"]))
    for name, digest in listed.items():
        if sha256_file(dest / name) != digest:
            return f"{name} is not the photo that was checked"
    return None


def summary(report):
    """A few lines telling what a fetch produced."""
    c = report["counts"]
    lines = [f"{report['source']}: {c['cats']['valid']:,} cat and {c['dogs']['valid']:,} dog photos "
             f"ready; {len(report['skipped'])} broken photos skipped and {len(report['ignored'])} "
             f"other files ignored (listed in {SKIPPED})."]
    lines += report.get("notes", [])
    return "\n".join(lines)
