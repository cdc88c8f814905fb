"""File jobs every module shares: writes that never leave half a file, and SHA-256 checksums."""
import hashlib
import json
import os
from contextlib import contextmanager
from pathlib import Path

CHUNK = 1 << 20  # bytes read at a time when hashing


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
