"""Verified downloads: streaming with progress, resume with HTTP Range, retries, size and checksum checks.

A download never takes more than it should: it stops at the announced size, and at a limit given by the
caller when no size is announced. The partial file (<name>.part) is never a link or a folder, and a disk
error while writing it names it.
"""
import errno
import os
import shutil
import time
from pathlib import Path
from urllib.parse import urlparse

import requests
from tqdm.auto import tqdm

from ..files import NOFOLLOW, check_regular, sha256_file

CHUNK = 1 << 20  # bytes read per step
TIMEOUT = 30  # seconds without data before a request gives up
CONNECT_TIMEOUT = 5  # seconds to wait for a host to accept the connection
RETRIES = 5  # attempts after the first one, on dropped connections and 5xx answers
CONNECT_RETRIES = 1  # attempts after the first one when the host refuses or does not answer at all
BACKOFF = 2.0  # seconds before the first retry; doubles each time (tests set it near 0)
SPACE_MARGIN = 64 << 20  # bytes kept free on top of what a step needs


class DownloadError(RuntimeError):
    """The file could not be downloaded (unreachable host, 4xx answer, too many failures)."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class VerificationError(RuntimeError):
    """A file's size or sha256 is not the published one; the file was set aside."""


class DiskSpaceError(RuntimeError):
    """Not enough free disk space for the next step."""


class Oversized(Exception):
    """A download of unannounced size went past its limit."""


class NoConnection(Exception):
    """The host could not be reached at all (refused, unknown or silent): retried only CONNECT_RETRIES times."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


def url_problem(url):
    """Why `url` cannot be downloaded (not an http(s) address with a host), or None."""
    try:
        parts = urlparse(str(url))
    except ValueError as e:
        return f"{url!r} is not a valid address ({e})"
    if parts.scheme.lower() not in ("http", "https"):
        scheme = f"{parts.scheme}://" if parts.scheme else "no scheme"
        return (f"{url!r} is not an http:// or https:// address ({scheme}): only http(s) downloads are "
                "supported; for a file on this machine pass --archive PATH instead")
    if not parts.hostname:
        return f"{url!r} has no host name"
    return None


def human_bytes(n):
    """A byte count for people, e.g. '824.9 MB'."""
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:,} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000


def check_free_space(folder, needed, what):
    """Raise DiskSpaceError unless `folder`'s disk has `needed` bytes (plus a margin) free."""
    folder = Path(folder)
    probe = folder
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed + SPACE_MARGIN:
        raise DiskSpaceError(
            f"Not enough free disk space to {what}: it needs about {human_bytes(needed + SPACE_MARGIN)} "
            f"in {folder}, and only {human_bytes(free)} is free. Free some space (or point "
            "COURSE_DATA_DIR at a bigger disk) and run the same command again.")
    return free


def set_aside(path, name=None):
    """Rename a bad file to <name>.bad (replacing an older one) so it is never used; return the new path."""
    path = Path(path)
    bad = path.with_name((name or path.name) + ".bad")
    path.replace(bad)
    return bad


def verify_file(path, size=None, sha256=None, keep_name=None):
    """Check a file's size and sha256; on mismatch set it aside and raise; return the computed sha256.

    keep_name: how to call the file in messages (a .part file is reported as the final name).
    """
    path = Path(path)
    name = keep_name or path.name
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        bad = set_aside(path, name)
        raise VerificationError(
            f"{name} has the wrong size: expected {size:,} bytes, got {actual_size:,} bytes. "
            f"It was kept aside as {bad} and will not be used; delete it and download the file again.")
    actual = sha256_file(path, progress=actual_size > 50 * CHUNK)
    if sha256 is not None and actual.lower() != sha256.lower():
        bad = set_aside(path, name)
        raise VerificationError(
            f"{name} has the wrong sha256 checksum:\n  expected {sha256.lower()}\n  got      {actual}\n"
            f"It was kept aside as {bad} and will not be used; delete it and download the file again "
            "(or pass --sha256 if you use a different, trusted copy).")
    return actual


def _content_range_start(response):
    """The first byte offset of a 206 answer's Content-Range header, or None."""
    value = response.headers.get("Content-Range", "")
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _open_part(part, mode):
    """Open the partial file to append ('ab') or from the start ('wb'), never through a symbolic link."""
    check_regular(part, "a partial download")
    flags = os.O_WRONLY | os.O_CREAT | NOFOLLOW | getattr(os, "O_BINARY", 0)
    flags |= os.O_APPEND if mode == "ab" else os.O_TRUNC
    return os.fdopen(os.open(part, flags, 0o644), mode)


def _write_error(err, part):
    """A disk error while writing the partial file, naming it (and saying that what was received is kept)."""
    if err.filename is None and err.errno is not None:
        return OSError(err.errno, err.strerror, str(part))
    return err


def _size(part):
    """Bytes in the partial file (0 when there is none); a link or folder in its place is refused."""
    check_regular(part, "a partial download")
    return part.stat().st_size if part.exists() else 0


def _stream_once(session, url, part, total_hint, progress, limit=None):
    """One request: append to (or restart) `part`; return True when the server sent the whole file.

    Never more than the announced size (or total_hint) is written; without either, at most `limit` bytes.
    """
    have = _size(part)
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        response = session.get(url, stream=True, timeout=(CONNECT_TIMEOUT, TIMEOUT), headers=headers)
    except requests.ConnectionError as e:  # includes ConnectTimeout: nothing was received
        raise NoConnection(e) from None
    with response as r:
        if r.status_code == 416 and have and total_hint and have >= total_hint:
            return True  # the partial file is already complete
        if r.status_code == 416:
            part.unlink()  # the partial file does not fit this server's file: start over
            raise requests.ConnectionError("range not satisfiable; restarting from the beginning")
        if 500 <= r.status_code < 600:
            raise requests.HTTPError(f"{r.status_code} {r.reason}", response=r)
        if r.status_code >= 400:
            raise DownloadError(f"{url} answered {r.status_code} {r.reason}.", status=r.status_code)
        if r.status_code == 206 and _content_range_start(r) == have:
            mode = "ab"
        else:
            have, mode = 0, "wb"  # the server ignored Range: start over
        length = r.headers.get("Content-Length")
        expected = have + int(length) if length is not None and length.isdigit() else total_hint
        most = expected or limit  # the most bytes the file may hold
        if limit and expected and expected > limit:
            raise VerificationError(f"{url} announces {human_bytes(expected)}, more than the file can be (at most "
                                    f"{human_bytes(limit)}): nothing was downloaded. Check the address.")
        if expected:
            check_free_space(part.parent, expected - have, f"download {part.name[:-5]}")
        received = have
        try:
            with _open_part(part, mode) as f, tqdm(total=expected, initial=have, unit="B", unit_scale=True,
                                                   unit_divisor=1024, desc=part.name[:-5], disable=not progress,
                                                   leave=False) as bar:
                for block in r.iter_content(CHUNK):
                    if most and received + len(block) > most:
                        f.write(block[:most - received])
                        received = most
                        if not expected:  # no size announced, and more than the limit: not this file
                            raise Oversized()
                        break  # the announced size is reached: anything more is not the file
                    f.write(block)
                    received += len(block)
                    bar.update(len(block))
        except Oversized:
            part.unlink(missing_ok=True)
            raise VerificationError(f"{url} sent more than {human_bytes(limit)} without announcing a size, more "
                                    f"than the file can be: stopped, and the partial file {part} was deleted. Check "
                                    "the address.") from None
        except OSError as err:
            if isinstance(err, requests.RequestException) or err.errno not in (
                    errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM):
                raise
            raise _write_error(err, part) from None
        if expected and received < expected:
            raise requests.ConnectionError(f"connection closed after {received:,} of {expected:,} bytes")
        return True


def download(url, dest, size=None, sha256=None, progress=True, session=None, check=None, limit=None):
    """Download `url` to `dest` through `dest`.part, resuming and retrying; verify; return dest.

    limit: the most bytes to accept when neither `size` nor the server says how large the file is (a
    server that streams without end stops there, with an error); a disk error while writing names the
    .part file, which is kept and resumed by the next run.

    A size or checksum mismatch, or a file `check(path)` finds a problem with (it returns why, or
    None), sets the file aside as <dest>.bad and raises VerificationError, so no later run uses it.
    4xx answers raise DownloadError at once; dropped connections, timeouts and 5xx answers are retried
    RETRIES times with a growing pause, continuing from the bytes already received; a host that
    cannot be reached at all is tried CONNECT_RETRIES more times.
    """
    problem = url_problem(url)
    if problem:
        raise DownloadError(f"Could not download: {problem}.")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = _size(part)
    if size:
        check_free_space(dest.parent, max(size - have, 0), f"download {dest.name}")
    session = session or requests.Session()
    last_error, no_connection, attempt = None, 0, 0
    while True:
        try:
            _stream_once(session, url, part, size, progress, limit)
            break
        except NoConnection as e:
            last_error, no_connection = _describe(e.error), no_connection + 1
            if no_connection > CONNECT_RETRIES:
                raise DownloadError(f"Could not download {url}: {last_error} (tried {attempt + 1} "
                                    f"time{'s' if attempt else ''}).") from None
        except (requests.ConnectionError, requests.Timeout, requests.HTTPError,
                requests.exceptions.ChunkedEncodingError) as e:
            last_error, no_connection = _describe(e), 0
        except requests.RequestException as e:  # a malformed address and the like: retrying cannot help
            raise DownloadError(f"Could not download {url}: {_describe(e)}.") from None
        attempt += 1
        if attempt > RETRIES:
            raise DownloadError(f"Could not download {url}: {last_error} (tried {attempt} times).")
        pause = BACKOFF * 2 ** (attempt - 1)
        done = _size(part)
        most = attempt + CONNECT_RETRIES - no_connection + 1 if no_connection else RETRIES + 1
        print(f"  {last_error}; retrying in {pause:.0f} s (attempt {attempt + 1} of {most}, "
              f"{human_bytes(done)} kept)", flush=True)
        time.sleep(pause)
    verify_file(part, size, sha256, keep_name=dest.name)
    reason = check(part) if check else None
    if reason:
        bad = set_aside(part, dest.name)
        raise VerificationError(f"The file downloaded from {url} {reason}. It was set aside as {bad} and "
                                "will not be used: check the address and run the command again.")
    part.replace(dest)
    return dest


def _describe(error):
    """A short, plain description of a requests error."""
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return f"the server answered {error.response.status_code} {error.response.reason}"
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        return "the connection dropped in the middle of the file"
    if isinstance(error, requests.ConnectTimeout):
        return f"the host did not answer within {CONNECT_TIMEOUT} s"
    if isinstance(error, requests.Timeout):
        return f"no data for {TIMEOUT} s (timeout)"
    text = str(error)
    if "Name or service not known" in text or "getaddrinfo" in text or "NameResolution" in text:
        return "the host name could not be resolved (no internet connection?)"
    if "Connection refused" in text:
        return "the connection was refused"
    return f"the connection failed ({text[:200]})"
