"""Safe changes to the data folder: one run at a time, folder swaps by rename, leftovers of interrupted runs.

Every run that writes under the data folder holds `data_lock()`: a lock on the file `.lock` there, taken
with the `filelock` library (flock on Linux and macOS, a Windows file lock on Windows), which the system
releases when the process ends, however it ends. A folder is replaced with `swap_in` (two renames); a
run killed between them leaves the previous folder as `.<name>.old-N`, which `restore_interrupted` puts
back. Temporary folders are made only while the lock is held, so whoever holds it knows that every
leftover belongs to a run that is over: leftovers are judged by holding the lock, never by process ids
(a process id can be reused by an unrelated program). `tidy` removes them at the start of every run.
`explain_os_error` turns a disk error ([Errno 28], [Errno 30], ...) into a sentence naming the file and
what to do.
"""
import contextlib
import errno
import os
import re
import shutil
import sys
import warnings
from pathlib import Path

import filelock

from .. import config
from ..files import check_regular, write_text_atomic

LOCK_FILE = ".lock"
OWNER_FILE = ".lock.owner"  # who holds the lock, for the message of a run that waits: "process N: command"
LOCK_WAIT = 1800  # seconds a second run waits for the first one before giving up
LOCK_POLL = 0.2  # seconds between two tries of a busy lock
# Temporary siblings of a folder <name>: .<name>.tmp-N, .<name>.old-N (swaps; N tells runs apart), .<name>.partial
# and .<name>.train.zip (real sources). All are made only while the lock is held.
LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?:(?P<kind>tmp|old)-(?P<pid>\d+)|partial|train\.zip)$")

_held = {}  # lock file -> [FileLock, depth]: the lock is re-entrant within one process


class BusyError(RuntimeError):
    """Another process is preparing data in the same folder."""


class DiskError(RuntimeError):
    """The data folder cannot be written (full disk, read-only, no permission); the message says what to do."""


def _owner_text():
    """'process 123: python -m helpers data --force', what this process writes as the lock's holder."""
    args = list(getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv])
    if args:
        args[0] = Path(args[0]).name
    command = " ".join(" ".join(args).split())  # one line, whatever the command held
    command = command[:100] + ("..." if len(command) > 100 else "")
    return f"process {os.getpid()}" + (f": {command}" if command else "")


def holder(folder):
    """Who holds (or last held) the lock of `folder`, as written by its holder, or 'process id unknown'."""
    path = Path(folder) / OWNER_FILE
    try:
        check_regular(path, "the lock's owner file")
        with open(path, "rb") as f:
            text = f.read(300).decode(errors="replace")
    except OSError:
        text = ""
    text = " ".join(text.split())
    return text if text.startswith("process ") else "process id unknown"


def _lock_file(folder):
    """The FileLock of `folder`, after checking that its lock file is no link, folder or other odd file."""
    path = Path(folder) / LOCK_FILE
    check_regular(path, "the data folder's lock file")
    return filelock.FileLock(str(path), thread_local=False)


def _acquire(lock, timeout):
    """Take `lock` within `timeout` seconds (0: one try); False when another process holds it."""
    try:
        with warnings.catch_warnings():  # where flock is missing, filelock says it uses a lock file instead
            warnings.filterwarnings("ignore", message=".*falling back to SoftFileLock")
            lock.acquire(timeout=timeout, poll_interval=LOCK_POLL)
    except filelock.Timeout:
        return False
    except OSError as err:  # e.g. the lock file became a link after it was checked: say so in one line
        check_regular(lock.lock_file, "the data folder's lock file")
        raise err from None
    return True


@contextlib.contextmanager
def _holding(key, lock, folder):
    """Record that this process holds `lock` while the block runs; release it at the end."""
    with contextlib.suppress(OSError):  # only used to name this run in another run's message
        write_text_atomic(Path(folder) / OWNER_FILE, _owner_text() + "\n")
    _held[key] = [lock, 1]
    try:
        yield
    finally:
        del _held[key]
        lock.release()


@contextlib.contextmanager
def data_lock(folder, wait=None):
    """Hold an exclusive lock on `folder` (created if needed) while the block runs.

    A second process waits (saying for which process) up to `wait` seconds (LOCK_WAIT), then raises
    BusyError naming the other process. The system releases the lock when the holder ends.
    """
    folder = Path(folder)
    key = str(folder / LOCK_FILE)
    if key in _held:
        _held[key][1] += 1
        try:
            yield
        finally:
            _held[key][1] -= 1
        return
    wait = LOCK_WAIT if wait is None else wait
    folder.mkdir(parents=True, exist_ok=True)
    lock = _lock_file(folder)
    if not _acquire(lock, 0):
        who = f"another run ({holder(folder)})"
        print(f"Waiting for {who}, which is preparing data in {folder} (Ctrl-C to stop waiting) ...", flush=True)
        if not _acquire(lock, wait):
            raise BusyError(f"A{who[1:]} is still preparing data in {folder}: wait for it to finish "
                            "(or stop it), then run the same command again.")
    with _holding(key, lock, folder):
        yield


@contextlib.contextmanager
def lock_if_free(folder):
    """Hold the lock of `folder` if no other run does (yield True), else yield False at once and hold nothing.

    For readers (status, the notebooks) that put back an interrupted swap's folder: they never wait, and
    never create the folder.
    """
    folder = Path(folder)
    key = str(folder / LOCK_FILE)
    if key in _held or not folder.is_dir():
        yield key in _held
        return
    lock = _lock_file(folder)
    if not _acquire(lock, 0):
        yield False
        return
    with _holding(key, lock, folder):
        yield True


def busy(folder):
    """The holder of the lock of `folder` ('process N: ...') when another run holds it now, else None."""
    try:
        with lock_if_free(folder) as free:
            return None if free else holder(folder)
    except OSError:  # a read-only data folder or an odd lock file: `data` reports it
        return None


def lock_folder(path):
    """The folder whose lock guards `path`: the data folder for anything inside it, else path's parent."""
    path, data = Path(path).resolve(), config.data_dir()
    return data if path == data or data in path.parents else path.parent


def _leftovers(dest):
    """(path, kind) of dest's temporary siblings; kind is 'tmp', 'old' or None."""
    dest = Path(dest)
    found = []
    if not dest.parent.is_dir():
        return found
    for entry in dest.parent.iterdir():
        m = LEFTOVER.match(entry.name)
        if m and m.group("name") == dest.name:
            found.append((entry, m.group("kind")))
    return found


def _stamp(folder):
    """When the folder's content was made: the newest mtime of its top-level files (or of the folder)."""
    times = [folder.stat().st_mtime]
    with contextlib.suppress(OSError):
        times += [p.stat().st_mtime for p in folder.iterdir() if p.is_file()]
    return max(times)


def restorable(dest):
    """The previous folder an interrupted swap left (the newest .<name>.old-N) when dest is missing.

    Meaningful only while the lock is held: then no swap is under way, and every .old-N is a leftover.
    """
    dest = Path(dest)
    if os.path.lexists(dest):
        return None
    olds = [p for p, kind in _leftovers(dest) if kind == "old" and p.is_dir() and not p.is_symlink()]
    return max(olds, key=_stamp) if olds else None


def restore_interrupted(dest):
    """Rename the folder an interrupted swap left back to dest (when dest is missing); return it or None.

    Done only when no other run holds the lock (a run that holds it may be between its two renames): that
    run puts it back itself, or the next reader does.
    """
    dest = Path(dest)
    if os.path.lexists(dest):
        return None
    with lock_if_free(lock_folder(dest)) as free:
        old = restorable(dest) if free else None
        if old is None:
            return None
        old.rename(dest)
    return old


def tidy(dest):
    """Restore an interrupted swap's folder, then delete dest's leftovers: with the lock held, all are over.

    An `.old-*` folder is deleted only when dest exists: it is never the only copy.
    """
    dest = Path(dest)
    with data_lock(lock_folder(dest)):
        restore_interrupted(dest)
        for path, kind in _leftovers(dest):
            if kind == "old" and not dest.exists():
                continue
            remove_quietly(path)


def tidy_all(data_dir, split_name, sources_dir):
    """tidy() the split and every source folder under the data folder."""
    tidy(Path(data_dir) / split_name)
    sources_dir = Path(sources_dir)
    if sources_dir.is_dir():
        names = {m.group("name") for m in map(LEFTOVER.match, (p.name for p in sources_dir.iterdir())) if m}
        names |= {p.name for p in sources_dir.iterdir() if not p.name.startswith(".")}
        for name in sorted(names):
            tidy(sources_dir / name)


def swap_in(tmp, dest):
    """Replace folder dest by tmp with renames: the old one disappears only once the new one is in place.

    A run killed between the two renames leaves the old folder as .<name>.old-N: restore_interrupted
    (called by every later run and reader) renames it back.
    """
    old = dest.parent / f".{dest.name}.old-{os.getpid()}"
    if dest.exists():
        dest.rename(old)
    try:
        tmp.rename(dest)
    except BaseException:
        if old.exists() and not dest.exists():
            old.rename(dest)  # put the previous folder back
        raise
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)  # anything left is removed by the next run's tidy()


@contextlib.contextmanager
def building(dest):
    """Yield a temporary sibling .<name>.tmp-N to fill; swap it in for dest on success, remove it always."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.tmp-{os.getpid()}"
    try:
        yield tmp
        swap_in(tmp, dest)
    finally:
        remove_quietly(tmp)


def remove_quietly(path):
    """Delete a temporary file or folder; never raises (a clean-up must not hide the real error)."""
    path = Path(path)
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


# ---------------------------------------------------------------- disk errors in plain words

FIX = "then run the same command again; data prepared earlier was not changed"


def _public(path):
    """The path a learner knows: a file in a run's temporary folder .<name>.tmp-N (or .partial) is named as it
    will be in <name>; other temporary files of a run are named by their folder."""
    parts = Path(path).parts
    for k, part in enumerate(parts):
        m = LEFTOVER.match(part)
        if m and (m.group("kind") == "tmp" or part.endswith(".partial")):
            return Path(*parts[:k], m.group("name"), *parts[k + 1:])
        if m:
            return Path(*parts[:k])
    return Path(path)


def explain_os_error(err, folder):
    """A one-line message for a disk error while writing under `folder`, or None for other errors."""
    where = _public(err.filename) if err.filename else folder
    code = getattr(err, "errno", None)
    if code in (errno.ENOSPC, errno.EDQUOT):
        free = ""
        with contextlib.suppress(OSError):
            free = f" ({shutil.disk_usage(_existing(folder)).free / 1e6:,.0f} MB free)"
        return (f"The disk is full: no space left while writing {where}{free}. Free some space (or point "
                f"COURSE_DATA_DIR / --data-dir at a bigger disk), {FIX}.")
    if code == errno.EROFS:
        return (f"{where} is on a read-only file system. Point COURSE_DATA_DIR (or --data-dir) at a folder "
                f"you can write to, {FIX}.")
    if code in (errno.EACCES, errno.EPERM):
        return (f"Permission denied for {where}. Make sure you can write to {folder} (or point "
                f"COURSE_DATA_DIR / --data-dir at a folder you own), {FIX}.")
    return None


@contextlib.contextmanager
def disk_errors(folder):
    """Turn a disk error raised in the block into a DiskError whose message names the path and the fix."""
    try:
        yield
    except OSError as err:
        message = explain_os_error(err, folder)
        if message is None:
            raise
        raise DiskError(message) from None


def _existing(path):
    """The nearest existing folder at or above path."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
