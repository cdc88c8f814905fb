"""helpers.data.download against a loopback server: resume, retries, errors, size and checksum checks."""
import hashlib
from collections import namedtuple

import pytest
from archive_server import closed_port_url

from helpers.data import download as dl

DATA = bytes(range(256)) * 4000  # 1,024,000 bytes
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    """No real pauses between retries; small chunks so a drop happens mid-file."""
    monkeypatch.setattr(dl, "BACKOFF", 0.01)
    monkeypatch.setattr(dl, "CHUNK", 64 << 10)


def test_download_verifies_and_renames(server, tmp_path):
    url = server.add("a.zip", DATA)
    out = dl.download(url, tmp_path / "a.zip", size=len(DATA), sha256=SHA, progress=False)
    assert out.read_bytes() == DATA
    assert not (tmp_path / "a.zip.part").exists()
    assert server.ranges("a.zip") == [None]


def test_resume_after_dropped_connection(server, tmp_path):
    url = server.add("a.zip", DATA)
    server.then("a.zip", ("drop", 300_000))
    out = dl.download(url, tmp_path / "a.zip", size=len(DATA), sha256=SHA, progress=False)
    assert hashlib.sha256(out.read_bytes()).hexdigest() == SHA
    ranges = server.ranges("a.zip")
    assert ranges[0] is None and len(ranges) == 2
    resumed_at = int(ranges[1].split("=")[1].rstrip("-"))
    assert 0 < resumed_at <= 300_000  # continued from the bytes kept, not from zero


def test_resume_of_part_file_left_by_earlier_run(server, tmp_path):
    url = server.add("a.zip", DATA)
    (tmp_path / "a.zip.part").write_bytes(DATA[:123_456])
    dl.download(url, tmp_path / "a.zip", size=len(DATA), sha256=SHA, progress=False)
    assert server.ranges("a.zip") == ["bytes=123456-"]
    assert (tmp_path / "a.zip").read_bytes() == DATA


def test_server_without_range_support_restarts_cleanly(server, tmp_path):
    url = server.add("a.zip", DATA)
    server.honour_range = False
    (tmp_path / "a.zip.part").write_bytes(b"x" * 5000)  # would corrupt the file if appended to
    dl.download(url, tmp_path / "a.zip", sha256=SHA, progress=False)
    assert (tmp_path / "a.zip").read_bytes() == DATA


def test_5xx_is_retried(server, tmp_path, capsys):
    url = server.add("a.zip", DATA)
    server.then("a.zip", 500, 503)
    dl.download(url, tmp_path / "a.zip", sha256=SHA, progress=False)
    assert len(server.ranges("a.zip")) == 3
    assert "500" in capsys.readouterr().out


def test_persistent_500_gives_up_after_retries(server, tmp_path):
    url = server.add("a.zip", DATA)
    server.then("a.zip", *[500] * 20)
    with pytest.raises(dl.DownloadError, match="500"):
        dl.download(url, tmp_path / "a.zip", sha256=SHA, progress=False)
    assert len(server.ranges("a.zip")) == dl.RETRIES + 1
    assert not (tmp_path / "a.zip").exists()


def test_404_fails_at_once(server, tmp_path):
    with pytest.raises(dl.DownloadError, match="404") as err:
        dl.download(server.url("missing.zip"), tmp_path / "m.zip", progress=False)
    assert err.value.status == 404
    assert len(server.requests) == 1


def test_checksum_mismatch_sets_file_aside(server, tmp_path):
    url = server.add("a.zip", DATA)
    wrong = "0" * 64
    with pytest.raises(dl.VerificationError) as err:
        dl.download(url, tmp_path / "a.zip", sha256=wrong, progress=False)
    message = str(err.value)
    assert wrong in message and SHA in message
    assert not (tmp_path / "a.zip").exists() and not (tmp_path / "a.zip.part").exists()
    assert (tmp_path / "a.zip.bad").read_bytes() == DATA


def test_size_mismatch_is_reported_with_both_sizes(server, tmp_path):
    url = server.add("a.zip", DATA)
    with pytest.raises(dl.VerificationError, match=f"expected {len(DATA) + 1:,} bytes, got {len(DATA):,}"):
        dl.download(url, tmp_path / "a.zip", size=len(DATA) + 1, progress=False)
    assert (tmp_path / "a.zip.bad").exists()


def test_unreachable_host_is_explained(tmp_path, monkeypatch):
    monkeypatch.setattr(dl, "RETRIES", 1)
    with pytest.raises(dl.DownloadError, match="refused"):
        dl.download(closed_port_url(), tmp_path / "a.zip", progress=False)


def test_timeout_is_retried(server, tmp_path, monkeypatch):
    url = server.add("a.zip", DATA)
    monkeypatch.setattr(dl, "TIMEOUT", 0.3)
    real_get = dl.requests.Session.get
    calls = []

    def slow_first(self, *args, **kwargs):
        calls.append(kwargs["timeout"])
        if len(calls) == 1:
            raise dl.requests.ReadTimeout("read timed out")
        return real_get(self, *args, **kwargs)

    monkeypatch.setattr(dl.requests.Session, "get", slow_first)
    dl.download(url, tmp_path / "a.zip", sha256=SHA, progress=False)
    assert calls == [(dl.CONNECT_TIMEOUT, 0.3)] * 2  # (connect, read) timeouts


def test_free_space_checked_before_download(server, tmp_path, monkeypatch):
    url = server.add("a.zip", DATA)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(dl.shutil, "disk_usage", lambda p: usage(10**9, 10**9 - 1000, 1000))
    with pytest.raises(dl.DiskSpaceError, match="free"):
        dl.download(url, tmp_path / "a.zip", size=len(DATA), progress=False)
    assert server.requests == []


def test_human_bytes():
    assert dl.human_bytes(999) == "999 bytes"
    assert dl.human_bytes(824_887_076) == "824.9 MB"
