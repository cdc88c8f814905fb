"""The real photos' three public sources, and getting one's archive verified: a download, the kaggle command or by hand.

Each Source says what is particular to it (addresses, size, checksum, licence, the archive's layout);
obtain_archive(spec) returns its archive's path once its size and SHA-256 are checked, downloading it into
<data>/downloads unless a file downloaded by hand is given. helpers.data.sources turns the archive into photos.
"""
import os
import re
import shutil
import subprocess
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from .. import config
from ..files import sha256_file
from .archives import SourceError, detect_layout
from .download import (
    DownloadError,
    VerificationError,
    check_free_space,
    download,
    set_aside,
    url_problem,
    verify_file,
)

DOWNLOAD_MARGIN = 1.25  # a download of unknown size stops beyond the source's usual size times this

SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
KAGGLE_COMPETITION = "dogs-vs-cats"


@dataclass(frozen=True, kw_only=True)
class Source:
    """One public place to get the dogs-vs-cats photos, and what is particular to it."""

    name: str
    title: str
    urls: tuple
    filename: str
    size: int | None  # bytes, when published
    usual_size: int  # about how large the archive is (bytes): a download of unknown size is capped near it
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
        filename="kagglecatsanddogs_5340.zip", size=824_887_076, usual_size=824_887_076,
        sha256="b7974bd00a84a99921f36ee4403f089853777b5ae8d151c76a86e64900334af9",
        license="Community Data License Agreement - Permissive 2.0 (CDLA-Permissive-2.0)",
        layout="PetImages/Cat/N.jpg, PetImages/Dog/N.jpg",
        photos=re.compile(r"PetImages/(?P<cls>Cat|Dog)/(?P<index>\d+)\.jpg", re.IGNORECASE)),
    "google": Source(
        name="google", title="Google's cats_and_dogs_filtered (3,000 photos: 1000 train + 500 validation per class)",
        urls=("https://download.mlcc.google.com/mledu-datasets/cats_and_dogs_filtered.zip",
              "https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip"),
        filename="cats_and_dogs_filtered.zip", size=68_606_236, usual_size=68_606_236, sha256=None,
        license="a subset of the Kaggle Dogs vs. Cats images; see the README's license notes",
        layout="cats_and_dogs_filtered/{train,validation}/{cats,dogs}/cat.N.jpg",
        photos=re.compile(r"cats_and_dogs_filtered/(?P<pool>train|validation)/(?P<folder>cats|dogs)/"
                          r"(?P<cls>cat|dog)\.(?P<index>\d+)\.jpg", re.IGNORECASE),
        own_validation=True),
    "kaggle": Source(
        name="kaggle", title="Kaggle's Dogs vs. Cats competition (25,000 photos, needs a Kaggle account)",
        urls=(), filename="dogs-vs-cats.zip", size=None, usual_size=850_000_000, sha256=None,
        license="Kaggle competition rules: use for the competition and study only, do not re-publish",
        layout="dogs-vs-cats.zip > train.zip > train/cat.N.jpg",
        photos=re.compile(r"train/(?P<cls>cat|dog)\.(?P<index>\d+)\.jpg", re.IGNORECASE),
        kaggle_cli=True),
}


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


def layout_patterns():
    """{source name: the pattern of its photo entries}, for helpers.data.archives.detect_layout."""
    return {name: spec.photos for name, spec in SOURCES.items()}


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


def archive_source(path):
    """The source whose layout a zip file has ('kaggle' for the competition download or its train.zip), or None."""
    try:
        with zipfile.ZipFile(path) as zf:
            layout = detect_layout(zf.namelist(), layout_patterns())
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError, ValueError):
        return None
    return "kaggle" if layout == "kaggle-outer" else layout


def download_limit(spec, size):
    """The most bytes a download of this source may take: its size when known, else its usual size plus a margin."""
    return size if size else int(spec.usual_size * DOWNLOAD_MARGIN)


def obtain_archive(spec, archive=None, url=None, sha256=None, progress=True):
    """Verified archive for a source: (path, computed sha256). Downloads when no archive is given."""
    check_arguments(archive, url, sha256)
    size, digest = expected_checks(spec, sha256)
    if archive is not None:
        path = Path(archive).expanduser()
        if size is not None and path.stat().st_size != size:
            other = archive_source(path)
            if other is not None and other != spec.name:
                raise SourceError(f"{path} is not the {spec.name} archive: it has the {other} layout "
                                  f"({SOURCES[other].layout}). Run the command with --source {other} instead.")
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
            download(address, target, size=size, sha256=digest, progress=progress, check=archive_problem,
                     limit=download_limit(spec, size))
            return target, sha256_file(target)
        except DownloadError as e:
            errors.append(str(e))
            if k + 1 < len(addresses):
                print(f"  {e} Trying the next address.", flush=True)
    raise SourceError(hand_download_help(spec, errors or ["no address to download from"]))
