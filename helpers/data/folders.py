"""Safe changes to the data folder: one run at a time, folder swaps by rename, leftovers of interrupted runs.

Every run that writes under the data folder holds `data_lock()` (an flock, released by the system when
the process ends, however it ends). A folder is replaced with `swap_in` (two renames); a run killed
between them leaves the previous folder as `.<name>.old-PID`, which `restore_interrupted` puts back.
`tidy` removes what interrupted runs left and is called at the start of every run. `explain_os_error`
turns a disk error ([Errno 28], [Errno 30], ...) into a sentence naming the folder and what to do.
"""
import contextlib
import errno
import os
import re
import shutil
import time
from pathlib import Path

from .. import config

LOCK_FILE = ".lock"
LOCK_WAIT = 1800  # seconds a second run waits for the first one before giving up
LOCK_POLL = 0.2  # seconds between two tries of a busy lock
# Temporary siblings of a folder <name>: .<name>.tmp-PID, .<name>.old-PID (swaps), .<name>.partial and
# .<name>.train.zip (real sources, made only while the lock is held).
LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?:(?P<kind>tmp|old)-(?P<pid>\d+)|partial|train\.zip)$")

_held = {}  # lock file -> [file descriptor, depth]: the lock is re-entrant within one process


class BusyError(RuntimeError):
    """Another process is preparing data in the same folder."""


class DiskError(RuntimeError):
    """The data folder cannot be written (full disk, read-only, no permission); the message says what to do."""


def _pid_alive(pid):
    """True when a process with this id is running (so its temporary folder is in use)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # no permission to signal it (another user's process): alive
        return True
    return True


def _describe_process(pid):
    """'process 123 (python -m helpers data ...)', from /proc when it can be read."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().split(b"\0")
        command = " ".join(Path(a.decode(errors="replace")).name if i == 0 else a.decode(errors="replace")
                           for i, a in enumerate(args) if a)
    except (OSError, ValueError):
        command = ""
    command = " ".join(command.split())  # one line, whatever the command held
    return f"process {pid}" + (f": {command[:100]}{'...' if len(command) > 100 else ''}" if command else "")


def _holder(fd):
    """The process id written in a lock file, or None."""
    try:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


@contextlib.contextmanager
def data_lock(folder, wait=None):
    """Hold an exclusive lock on `folder` (created if needed) while the block runs.

    A second process waits (saying for which process) up to `wait` seconds (LOCK_WAIT), then raises
    BusyError naming the other process. The system releases the lock when the holder ends.
    """
    folder = Path(folder)
    path = folder / LOCK_FILE
    key = str(path)
    if key in _held:
        _held[key][1] += 1
        try:
            yield
        finally:
            _held[key][1] -= 1
        return
    wait = LOCK_WAIT if wait is None else wait
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(fd):
            other = _holder(fd)
            who = f"another run ({_describe_process(other) if other else 'process id unknown'})"
            print(f"Waiting for {who}, which is preparing data in {folder} (Ctrl-C to stop waiting) ...",
                  flush=True)
            deadline = time.monotonic() + wait
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    raise BusyError(f"A{who[1:]} is still preparing data in {folder}: wait for it to finish "
                                    "(or stop it), then run the same command again.")
                time.sleep(LOCK_POLL)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _held[key] = [fd, 1]
        try:
            yield
        finally:
            del _held[key]
    finally:
        os.close(fd)  # releases the lock


def lock_folder(path):
    """The folder whose lock guards `path`: the data folder for anything inside it, else path's parent."""
    path, data = Path(path).resolve(), config.data_dir()
    return data if path == data or data in path.parents else path.parent


def _try_lock(fd):
    """Take the flock on fd without waiting; False when another process holds it."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; runs are not serialised there
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _leftovers(dest):
    """(path, kind, pid) of dest's temporary siblings; kind is 'tmp', 'old' or None (pid None too)."""
    dest = Path(dest)
    found = []
    if not dest.parent.is_dir():
        return found
    for entry in dest.parent.iterdir():
        m = LEFTOVER.match(entry.name)
        if m and m.group("name") == dest.name:
            pid = int(m.group("pid")) if m.group("pid") else None
            found.append((entry, m.group("kind"), pid))
    return found


def _stale(pid):
    """True when a folder named after this process id belongs to no running run (or to this one)."""
    return pid is None or pid == os.getpid() or not _pid_alive(pid)


def _stamp(folder):
    """When the folder's content was made: the newest mtime of its top-level files (or of the folder)."""
    times = [folder.stat().st_mtime]
    with contextlib.suppress(OSError):
        times += [p.stat().st_mtime for p in folder.iterdir() if p.is_file()]
    return max(times)


def restorable(dest):
    """The previous folder an interrupted swap left (.<name>.old-PID of a dead run) when dest is missing."""
    dest = Path(dest)
    if dest.exists():
        return None
    olds = [p for p, kind, pid in _leftovers(dest) if kind == "old" and p.is_dir() and _stale(pid)]
    return max(olds, key=_stamp) if olds else None


def restore_interrupted(dest):
    """Rename the folder an interrupted swap left back to dest (when dest is missing); return it or None."""
    old = restorable(dest)
    if old is None:
        return None
    try:
        old.rename(dest)
    except FileNotFoundError:  # another run restored it first
        return None
    return old


def tidy(dest):
    """Restore an interrupted swap's folder, then delete dest's leftovers from runs that are over.

    An `.old-*` folder is deleted only when dest exists: it is never the only copy.
    """
    dest = Path(dest)
    restore_interrupted(dest)
    for path, kind, pid in _leftovers(dest):
        if not _stale(pid) or (kind == "old" and not dest.exists()):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()


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

    A run killed between the two renames leaves the old folder as .<name>.old-PID: restore_interrupted
    (called by every later run) renames it back.
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
    """Yield a temporary sibling .<name>.tmp-PID to fill; swap it in for dest on success, remove it always."""
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
    """The folder a learner knows for a path: temporary folders and files of a run are named by their parent."""
    parts = Path(path).parts
    for k, part in enumerate(parts):
        if LEFTOVER.match(part):
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
