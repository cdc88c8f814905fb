"""The real dogs-vs-cats photos: three public sources, verified archives, every image checked before use.

fetch(source) downloads (or takes) an archive, verifies it, and writes the valid images into
<data>/sources/<source>/train/cat.N.jpg in Kaggle's layout (N is the index in the original archive),
with report.json and skipped.txt listing every file that was left out and why, and SHA256SUMS (the
checksum of every photo written, checked again by `--force`).
"""
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import warnings
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from PIL import Image, UnidentifiedImageError

from .. import config
from ..files import sha256_file
from .download import (DiskSpaceError, DownloadError, VerificationError, check_free_space, download,
                       human_bytes, set_aside, url_problem, verify_file)
from .folders import data_lock, lock_folder, remove_quietly, swap_in, tidy

REPORT = "report.json"
SKIPPED = "skipped.txt"
CHECKSUMS = "SHA256SUMS"  # `sha256sum -c` format: every photo written, checked again by --force
MAX_PHOTO_BYTES = 50 << 20  # a larger archive entry is no photo: skipped without being read
BATCH_PHOTOS = 64  # photos read and checked together ...
BATCH_BYTES = 32 << 20  # ... holding at most about this many bytes in memory
SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
KAGGLE_COMPETITION = "dogs-vs-cats"


class SourceError(RuntimeError):
    """A source could not be used; the message says why and what to do."""


@dataclass(frozen=True, kw_only=True)
class Source:
    """One public place to get the dogs-vs-cats photos, and what is particular to it."""

    name: str
    title: str
    urls: tuple
    filename: str
    size: int | None  # bytes, when published
    sha256: str | None
    license: str
    layout: str  # the archive's layout, in words
    photos: re.Pattern  # which archive entries are photos; groups: cls, index (and pool: train or validation)
    # The archive has its own validation folder but no test folder: validation and test are carved from it.
    own_validation: bool = False
    kaggle_cli: bool = False  # downloaded by the kaggle command (an account), not from `urls`


SOURCES = {
    "microsoft": Source(
        name="microsoft", title="Microsoft's Kaggle Cats and Dogs archive (25,000 photos, no account needed)",
        urls=("https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/"
              "kagglecatsanddogs_5340.zip",),
        filename="kagglecatsanddogs_5340.zip", size=824_887_076,
        sha256="b7974bd00a84a99921f36ee4403f089853777b5ae8d151c76a86e64900334af9",
        license="Community Data License Agreement - Permissive 2.0 (CDLA-Permissive-2.0)",
        layout="PetImages/Cat/N.jpg, PetImages/Dog/N.jpg",
        photos=re.compile(r"PetImages/(?P<cls>Cat|Dog)/(?P<index>\d+)\.jpg", re.IGNORECASE)),
    "google": Source(
        name="google", title="Google's cats_and_dogs_filtered (3,000 photos: 1000 train + 500 validation per class)",
        urls=("https://download.mlcc.google.com/mledu-datasets/cats_and_dogs_filtered.zip",
              "https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip"),
        filename="cats_and_dogs_filtered.zip", size=68_606_236, sha256=None,
        license="a subset of the Kaggle Dogs vs. Cats images; see the README's license notes",
        layout="cats_and_dogs_filtered/{train,validation}/{cats,dogs}/cat.N.jpg",
        photos=re.compile(r"cats_and_dogs_filtered/(?P<pool>train|validation)/(?P<folder>cats|dogs)/"
                          r"(?P<cls>cat|dog)\.(?P<index>\d+)\.jpg", re.IGNORECASE),
        own_validation=True),
    "kaggle": Source(
        name="kaggle", title="Kaggle's Dogs vs. Cats competition (25,000 photos, needs a Kaggle account)",
        urls=(), filename="dogs-vs-cats.zip", size=None, sha256=None,
        license="Kaggle competition rules: use for the competition and study only, do not re-publish",
        layout="dogs-vs-cats.zip > train.zip > train/cat.N.jpg",
        photos=re.compile(r"train/(?P<cls>cat|dog)\.(?P<index>\d+)\.jpg", re.IGNORECASE),
        kaggle_cli=True),
}
NOT_PHOTOS = re.compile(r"(^|/)(__MACOSX/|\._|Thumbs\.db$|\.DS_Store$)", re.IGNORECASE)


def get_source(name):
    """The Source called `name`, or a clear error listing the real sources."""
    key = (name or "").strip().lower()
    if key not in SOURCES:
        raise SourceError(f"Unknown data source {name!r}: use one of {', '.join(SOURCES)} "
                          "(or 'synthetic' for the offline practice set).")
    return SOURCES[key]


def downloads_dir():
    """Where downloaded archives are kept: <data>/downloads."""
    return config.data_dir() / "downloads"


# ---------------------------------------------------------------- getting the archive

def hand_download_help(spec, errors):
    """The message shown when a host cannot be reached: what to fetch by hand and the command to use it."""
    errors = [errors] if isinstance(errors, str) else list(errors)
    head = (errors[0] if len(errors) == 1 else
            f"Could not download the {spec.name} archive:\n  " + "\n  ".join(errors))
    if not spec.urls:
        return f"{head}\n" + KAGGLE_BY_HAND
    where = "\n".join(f"    {u}" for u in spec.urls)
    size = f" ({spec.size:,} bytes)" if spec.size else ""
    return (f"{head}\n"
            f"If this machine has no internet access (or the host is blocked), download{size} in a browser:\n"
            f"{where}\nthen use the file you downloaded:\n"
            f"    python -m helpers data --source {spec.name} --archive PATH/TO/{spec.filename}\n"
            f"    (or: make data SOURCE={spec.name} ARCHIVE=PATH/TO/{spec.filename})")


def kaggle_credentials():
    """Where Kaggle credentials were found ('environment' or a kaggle.json path), or None."""
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return "environment"
    folder = Path(os.environ.get("KAGGLE_CONFIG_DIR") or Path.home() / ".kaggle")
    token = folder / "kaggle.json"
    return str(token) if token.is_file() else None


KAGGLE_BY_HAND = (
    "Or download it by hand: sign in at https://www.kaggle.com/c/dogs-vs-cats/data, accept the "
    "competition rules, click 'Download All' (dogs-vs-cats.zip, about 812 MB), then run\n"
    "    python -m helpers data --source kaggle --archive PATH/TO/dogs-vs-cats.zip\n"
    "(train.zip alone works too). No account? Use --source microsoft: the same photos, no sign-in.")


def kaggle_download(folder):
    """Run `kaggle competitions download -c dogs-vs-cats -p folder`; return the zip's path."""
    exe = shutil.which("kaggle")
    if exe is None:
        raise SourceError("The kaggle command is not installed. Install it with `pip install kaggle`, "
                          "create an API token at https://www.kaggle.com/settings (it saves kaggle.json; "
                          "put it in ~/.kaggle/), and run the same command again.\n" + KAGGLE_BY_HAND)
    if kaggle_credentials() is None:
        raise SourceError("No Kaggle credentials found: create an API token at "
                          "https://www.kaggle.com/settings and save kaggle.json in ~/.kaggle/ "
                          "(or set KAGGLE_USERNAME and KAGGLE_KEY).\n" + KAGGLE_BY_HAND)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "dogs-vs-cats.zip"
    if target.exists() and zipfile.is_zipfile(target):
        print(f"Using {target.name} downloaded earlier.")
        return target
    target.unlink(missing_ok=True)  # an interrupted earlier download: the kaggle command could keep it
    check_free_space(folder, 850_000_000, "download dogs-vs-cats.zip")
    command = [exe, "competitions", "download", "-c", KAGGLE_COMPETITION, "-p", str(folder)]
    print("Running: kaggle competitions download -c dogs-vs-cats", flush=True)
    proc = subprocess.run(command, capture_output=True, text=True)
    output = (proc.stdout or "") + (proc.stderr or "")
    failed = proc.returncode != 0 or not target.is_file()
    if failed and re.search(r"\b401\b|Unauthorized", output):
        raise SourceError("Kaggle answered 401 Unauthorized: your credentials were not accepted. "
                          "Create a new API token at https://www.kaggle.com/settings, replace "
                          "~/.kaggle/kaggle.json (or KAGGLE_USERNAME/KAGGLE_KEY) with it, and retry.\n"
                          + KAGGLE_BY_HAND)
    if failed and re.search(r"\b403\b|Forbidden", output):
        raise SourceError("Kaggle answered 403 Forbidden: your account has not accepted this "
                          "competition's rules. Open https://www.kaggle.com/c/dogs-vs-cats/rules, "
                          "click 'I Understand and Accept', and run the same command again.\n"
                          + KAGGLE_BY_HAND)
    if failed:
        tail = output.strip()[-600:] or f"exit status {proc.returncode}"
        raise SourceError(f"The kaggle command failed:\n{tail}\n" + KAGGLE_BY_HAND)
    return target


def check_arguments(archive=None, url=None, sha256=None):
    """Raise SourceError for a malformed --archive, --url or --sha256 before any work is done."""
    if sha256 is not None and not SHA256.fullmatch(sha256.strip()):
        what = "is empty" if not sha256.strip() else f"is not 64 hexadecimal digits ({sha256.strip()[:80]!r})"
        raise SourceError(f"--sha256 {what}: give the archive's SHA-256 checksum (64 characters 0-9, a-f), "
                          "or leave the option out to check against the published one.")
    if url is not None:
        problem = url_problem(url.strip())
        if problem:
            raise SourceError(f"--url {problem}.")
    if archive is not None:
        path = Path(archive).expanduser()
        if not str(archive).strip():
            raise SourceError("--archive is empty: pass the path of the .zip file you downloaded.")
        if path.is_dir():
            raise SourceError(f"--archive {path} is a directory: pass the path of the .zip file itself "
                              "(e.g. PATH/TO/kagglecatsanddogs_5340.zip), not the folder holding it.")
        if not path.exists():
            raise SourceError(f"Archive not found: {path}. Pass the path of the .zip file you downloaded.")
        if not path.is_file():
            raise SourceError(f"--archive {path} is not a regular file: pass the path of the .zip file.")


def expected_checks(spec, sha256=None):
    """(size, sha256) a file must match: --sha256 replaces both; otherwise the published values."""
    if sha256:
        return None, sha256.strip().lower()
    return spec.size, spec.sha256


def archive_problem(path):
    """Why a downloaded file cannot be a zip archive (an error page, a download cut short), or None."""
    path = Path(path)
    if zipfile.is_zipfile(path):
        return None
    with open(path, "rb") as f:
        head = f.read(64)
    size = path.stat().st_size
    if head.startswith(b"PK\x03\x04"):
        return f"is an incomplete zip archive ({size:,} bytes: the download was cut short)"
    text = head.lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
        return f"is a web page, not a zip archive ({size:,} bytes: an error or sign-in page?)"
    return f"is not a zip archive ({size:,} bytes)"


def obtain_archive(spec, archive=None, url=None, sha256=None, progress=True):
    """Verified archive for a source: (path, computed sha256). Downloads when no archive is given."""
    check_arguments(archive, url, sha256)
    size, digest = expected_checks(spec, sha256)
    if archive is not None:
        path = Path(archive).expanduser()
        if size is not None and path.stat().st_size != size:
            raise VerificationError(
                f"{path.name} has the wrong size for the {spec.name} archive: expected {size:,} bytes, "
                f"got {path.stat().st_size:,} bytes. It was not used; download it again (an interrupted "
                "download is often smaller), or pass --sha256 for a different, trusted copy.")
        actual = sha256_file(path, progress=progress and path.stat().st_size > 50 << 20)
        if digest is not None and actual != digest:
            raise VerificationError(
                f"{path.name} has the wrong sha256 checksum:\n  expected {digest}\n  got      {actual}\n"
                "It was not used. Download it again, or pass --sha256 for a different, trusted copy.")
        return path, actual
    folder = downloads_dir()
    if spec.kaggle_cli and url is None:
        path = kaggle_download(folder)
        return path, verify_file(path, size, digest)
    target = folder / spec.filename
    if target.is_file():
        problem = archive_problem(target)
        actual = None if problem else sha256_file(target, progress=progress and target.stat().st_size > 50 << 20)
        if problem is None and (size is None or target.stat().st_size == size) and (digest is None or actual == digest):
            print(f"Using {target.name} downloaded earlier.", flush=True)
            return target, actual
        bad = set_aside(target)
        why = problem or "does not match the expected size or checksum"
        print(f"{target.name} downloaded earlier {why}; it was set aside as {bad.name}. Downloading it again.",
              flush=True)
    errors = []
    addresses = [url.strip()] if url else list(spec.urls)
    for k, address in enumerate(addresses):
        print(f"Downloading {spec.filename} from {address}", flush=True)
        try:
            download(address, target, size=size, sha256=digest, progress=progress, check=archive_problem)
            return target, sha256_file(target)
        except DownloadError as e:
            errors.append(str(e))
            if k + 1 < len(addresses):
                print(f"  {e} Trying the next address.", flush=True)
    raise SourceError(hand_download_help(spec, errors or ["no address to download from"]))


# ---------------------------------------------------------------- checking archives and images

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


def detect_layout(names):
    """Which known layout a list of zip entry names has: microsoft, google, kaggle, kaggle-outer or None."""
    if any(PurePosixPath(n).name.lower() == "train.zip" for n in names):
        return "kaggle-outer"
    for layout, spec in SOURCES.items():
        if any(spec.photos.fullmatch(n) for n in names):
            return layout
    return None


def photo_entries(zf, layout):
    """(photos, ignored): photos as (class, index, pool, ZipInfo) in index order; other entries' names."""
    pattern = SOURCES[layout].photos
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
        photos.append((cls, int(m.group("index")), pool, info))
    pool_order = {"train": 0, "validation": 1}
    photos.sort(key=lambda p: (p[0], pool_order[p[2]], p[1]))
    seen = set()
    for cls, index, _, info in photos:
        if (cls, index) in seen:
            raise SourceError(f"The archive holds two images for {config.kaggle_name(cls, index)} "
                              f"(one is {info.filename}); it is not a known release.")
        seen.add((cls, index))
    return photos, ignored


# ---------------------------------------------------------------- normalising into Kaggle's layout

DAMAGED_ENTRY = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError)


def damaged(error):
    """A short reason for an archive entry that cannot be read (bad CRC, broken compression, ...)."""
    text = str(error).split(" for file ")[0].strip() or type(error).__name__
    return f"damaged in the archive ({text})"


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


def _open_layout(spec, zf, label, scratch):
    """(ZipFile, layout) of the photos: opens Kaggle's nested train.zip (extracted to `scratch`) if needed."""
    reject_unsafe(zf, label)
    layout = detect_layout(zf.namelist())
    if layout == "kaggle-outer":
        inner = next(i for i in zf.infolist() if PurePosixPath(i.filename).name.lower() == "train.zip")
        check_free_space(scratch.parent, inner.file_size, "unpack train.zip from the Kaggle archive")
        print(f"Unpacking {inner.filename} ({human_bytes(inner.file_size)}) from {label} ...", flush=True)
        try:
            with zf.open(inner) as src, open(scratch, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except DAMAGED_ENTRY as e:
            raise SourceError(f"train.zip inside {label} is {damaged(e)}: download the archive again.") from None
        try:
            inner_zf = zipfile.ZipFile(scratch)
        except zipfile.BadZipFile:
            raise SourceError(f"train.zip inside {label} is not a valid zip file; download it again.") from None
        label, zf = f"train.zip inside {label}", inner_zf
        reject_unsafe(zf, label)
        layout = detect_layout(zf.namelist())
    if layout is None:
        raise SourceError(f"{label} does not look like any dogs-vs-cats archive this course knows "
                          f"(expected {spec.layout}).")
    if layout != spec.name:
        raise SourceError(f"{label} has the {layout} layout ({SOURCES[layout].layout}), not the "
                          f"{spec.name} one: run the command with --source {layout} instead.")
    return zf, layout


def _check_batch(executor, items):
    """Check a batch of (photo, data) pairs in parallel; return the reasons (None = valid)."""
    return list(executor.map(check_jpeg, [data for _, data in items]))


def normalise(zf, layout, out, progress=True, workers=None):
    """Write the valid photos of `zf` to out/train/cat.N.jpg; return the report's counts and lists.

    Photos are read and checked in batches of at most BATCH_PHOTOS entries and about BATCH_BYTES, so
    memory stays bounded whatever the archive holds; an entry that is too large, damaged in the
    archive or not a decodable JPEG is skipped with its reason. SHA256SUMS lists every photo written.
    """
    from tqdm.auto import tqdm

    photos, ignored = photo_entries(zf, layout)
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
        skipped.append({"entry": info.filename, "name": config.kaggle_name(cls, index), "reason": reason})

    def flush(executor):
        for (photo, data), reason in zip(batch, _check_batch(executor, batch)):
            cls, index, pool, info = photo
            name = config.kaggle_name(cls, index)
            if reason is None:
                (out / "train" / name).write_bytes(data)
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
            data, reason = read_entry(zf, photo[3])
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
    order = {name: k for k, name in enumerate(config.kaggle_name(c, i) for c, i, _, _ in photos)}
    skipped.sort(key=lambda s: order[s["name"]])
    (out / CHECKSUMS).write_text("\n".join(sums) + "\n", encoding="utf-8")
    for cls in config.CLASSES:
        if counts[cls]["valid"] == 0:
            raise SourceError(f"The archive holds no valid {cls} photos; it is not usable.")
    pool_summary = {pool: {cls: {"count": len(ix), "first": min(ix), "last": max(ix)}
                           for cls, ix in by_cls.items()} for pool, by_cls in pools.items()}
    return {"counts": counts, "pools": pool_summary, "skipped": skipped, "ignored": ignored}


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
    except (OSError, ValueError):
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


def notes_for(spec, pools):
    """Plain-language notes about a source's split, stored in the report and printed."""
    if not spec.own_validation:
        return []
    val = pools.get("validation", {})
    sizes = split_limits(spec, pools)
    held = ", ".join(f"{v['count']} {c}" for c, v in val.items())
    return [(f"{spec.name.capitalize()}'s archive has no test split: validation and test are both carved from its "
             f"validation folder ({held}), "
             f"at most {sizes['validation']} + {sizes['test']} per class; train comes from its "
             f"train folder (at most {sizes['train']} per class).")]


def split_limits(spec, pools):
    """Largest images per class each split can have for a source (None = no limit)."""
    if not spec.own_validation or "validation" not in pools:
        return {"train": None, "validation": None, "test": None}
    train = min(v["count"] for v in pools.get("train", {}).values()) if pools.get("train") else 0
    val = min(v["count"] for v in pools["validation"].values())
    return {"train": train, "validation": val // 2, "test": val - val // 2}


def build(spec, archive, archive_sha, dest, progress=True):
    """Normalise a verified archive into `dest` (replaced only when all went well); return the report."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = dest.parent / f".{dest.name}.partial"
    scratch = dest.parent / f".{dest.name}.train.zip"
    remove_quietly(work)
    try:
        try:
            zf = zipfile.ZipFile(archive)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as e:
            raise SourceError(f"{Path(archive).name} is not a valid zip archive ({e}): an incomplete download? "
                              "Download it again.") from None
        with zf:
            photos_zf, layout = _open_layout(spec, zf, Path(archive).name, scratch)
            with photos_zf:
                result = normalise(photos_zf, layout, work, progress=progress)
        report = {
            "source": spec.name, "title": spec.title, "license": spec.license,
            "archive": Path(archive).name, "archive_size": Path(archive).stat().st_size,
            "archive_sha256": archive_sha, "layout": layout,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "split_limits": split_limits(spec, result["pools"]),
            "notes": notes_for(spec, result["pools"]), **result,
        }
        write_report(work, report)
        swap_in(work, dest)
    finally:  # never raises: the error that stopped the build is the one reported
        remove_quietly(work)
        remove_quietly(scratch)
    return report


def summary(report):
    """A few lines telling what a fetch produced."""
    c = report["counts"]
    lines = [f"{report['source']}: {c['cats']['valid']:,} cat and {c['dogs']['valid']:,} dog photos "
             f"ready; {len(report['skipped'])} broken photos skipped and {len(report['ignored'])} "
             f"other files ignored (listed in {SKIPPED})."]
    lines += report.get("notes", [])
    return "\n".join(lines)


def fetch(source, dest=None, archive=None, url=None, sha256=None, progress=True, force=False):
    """Get a real source into `dest` (default <data>/sources/<source>) in Kaggle's layout; return dest.

    archive: a file downloaded by hand; url/sha256: another address or checksum (mirrors, tests).
    The archive is verified (size, sha256) before use; an existing folder is replaced only on success.
    force: check the prepared photos again against SHA256SUMS, and rebuild them from the archive
    when anything changed.
    """
    spec = get_source(source)
    check_arguments(archive, url, sha256)
    dest = Path(dest) if dest is not None else config.source_dir(spec.name)
    with data_lock(lock_folder(dest)):
        tidy(dest)
        report = read_report(dest)
        wanted = (sha256 or spec.sha256 or "").strip().lower()
        same = report and report.get("source") == spec.name and archive is None and (
            (url is None and sha256 is None) or (wanted and report.get("archive_sha256") == wanted))
        problem = source_problem(dest, report) if report and force else None
        if problem:
            print(f"The {spec.name} photos in {dest.name}/ differ from the ones checked when they were prepared "
                  f"({problem}): preparing them again from the archive.", flush=True)
            if archive is None and url is None and sha256 is None:
                sha256 = report["archive_sha256"]  # the same archive, e.g. the verified download kept earlier
            report = None
        elif same:
            print(f"Using the {spec.name} photos prepared earlier in {dest.name}/ "
                  f"(archive sha256 {report['archive_sha256'][:12]}...{', checked again' if force else ''}).")
            return dest
        path, actual_sha = obtain_archive(spec, archive, url, sha256, progress)
        print(f"{path.name}: {path.stat().st_size:,} bytes, sha256 {actual_sha}"
              + ("" if spec.sha256 or sha256 else " (computed here; no checksum is published)"), flush=True)
        if report and report.get("archive_sha256") == actual_sha and report.get("source") == spec.name:
            print(f"{dest.name}/ already holds the photos of this archive.")
            return dest
        report = build(spec, path, actual_sha, dest, progress)
    print(summary(report), flush=True)
    return dest


__all__ = ["SOURCES", "Source", "SourceError", "DownloadError", "VerificationError", "DiskSpaceError",
           "fetch", "get_source", "check_jpeg", "read_report", "split_limits", "downloads_dir",
           "check_arguments", "source_problem"]
