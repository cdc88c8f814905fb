"""File jobs every module shares: writes that never leave half a file, SHA-256 checksums, and no file written
through a symbolic link or into something that is not a regular file."""
import hashlib
import json
import os
import stat
from contextlib import contextmanager
from pathlib import Path

CHUNK = 1 << 20  # bytes read at a time when hashing
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # not on Windows, where symbolic links need special rights to make


class UnsafeFileError(OSError):
    """A path the course writes is a link, a folder or another non-regular file; the message says what to do."""


def check_regular(path, what):
    """Raise UnsafeFileError unless `path` is missing or a regular file (a link is refused, not followed).

    what: what the file should be, in words ("the data folder's lock file").
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISREG(mode):
        return
    kind = ("a symbolic link" if stat.S_ISLNK(mode) else "a folder" if stat.S_ISDIR(mode)
            else "not a regular file")
    raise UnsafeFileError(f"{path} is {kind}, not {what}: nothing was written through it. Delete it "
                          "(only that name: whatever it points to is not needed) and run the same command again.")


@contextmanager
def replacing(path):
    """Yield a temporary path beside `path`; on success rename it over `path`, on failure remove it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}{path.suffix}")  # keeps the suffix (model.save needs it)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path, text):
    """Write text (UTF-8) to a temporary file beside path, then rename it into place; return path."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json_atomic(path, obj, indent=1):
    """Write obj as JSON through write_text_atomic; return path."""
    return write_text_atomic(path, json.dumps(obj, indent=indent))


def sha256_file(path, progress=False):
    """The SHA-256 hex digest of a file, read in chunks (with a progress bar if asked)."""
    from tqdm.auto import tqdm

    path = Path(path)
    digest = hashlib.sha256()
    with open(path, "rb") as f, tqdm(total=path.stat().st_size, unit="B", unit_scale=True,
                                     desc=f"sha256 {path.name}", disable=not progress, leave=False) as bar:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
            bar.update(len(block))
    return digest.hexdigest()
