"""Real-photo sources end to end, offline: archives in each real layout served from 127.0.0.1."""
import hashlib
import io
import json
import os
import shutil
import stat
import sys
import zipfile
from collections import namedtuple

import archive_server as fake
import pytest
from PIL import Image

from helpers import config, data
from helpers.data import archives as archive_checks
from helpers.data import download as dl
from helpers.data import obtain, sources


def sha(b):
    return hashlib.sha256(b).hexdigest()


@pytest.fixture(autouse=True)
def fast_and_quiet(monkeypatch):
    """No real pauses between retries."""
    monkeypatch.setattr(dl, "BACKOFF", 0.01)
    monkeypatch.setattr(dl, "RETRIES", 2)


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    """Every test archive, built once: {name: (path, bytes, expected)}."""
    root = tmp_path_factory.mktemp("archives")
    made = {}
    ms, ms_valid = fake.microsoft_archive(206)
    made["microsoft"] = (ms, ms_valid)
    made["microsoft_short"] = fake.microsoft_archive(202)  # 199 valid cats: one short of 200
    made["google"] = fake.google_archive(110, 100)
    train, k_valid = fake.kaggle_train_archive(200, start=1)
    made["kaggle_train"] = (train, k_valid)
    made["kaggle_outer"] = (fake.kaggle_competition_archive(train), k_valid)
    slip = zipfile.ZipFile(io.BytesIO(ms))
    entries = {i.filename: slip.read(i) for i in slip.infolist()}
    entries["PetImages/Cat/../../../escaped.jpg"] = fake.photo("cat", 0)
    made["zip_slip"] = (fake.zip_bytes(entries), ms_valid)
    out = {}
    for name, (blob, expected) in made.items():
        path = root / f"{name}.zip"
        path.write_bytes(blob)
        out[name] = (path, blob, expected)
    return out


def split_names(split, cls):
    """File names in one folder of the prepared split, in index order."""
    folder = config.small_dataset_dir() / split / cls
    return sorted((p.name for p in folder.iterdir()), key=lambda n: int(n.split(".")[1]))


def expect_split(valid, sizes=(100, 50, 50), pools=None):
    """Check the prepared split holds the first valid images per class in index order, byte for byte."""
    for cls, prefix in (("cats", "cat"), ("dogs", "dog")):
        order = valid[prefix] if pools is None else None
        start = 0
        for split, n in zip(config.SPLITS, sizes):
            if pools is None:
                wanted, start = order[start:start + n], start + n
            else:
                pool = pools["train"][prefix] if split == "train" else pools["validation"][prefix]
                offset = {"train": 0, "validation": 0, "test": sizes[1]}[split]
                wanted = pool[offset:offset + n]
            assert split_names(split, cls) == [f"{prefix}.{i}.jpg" for i in wanted], (split, cls)
            for i in wanted[:3] + wanted[-2:]:
                path = config.small_dataset_dir() / split / cls / f"{prefix}.{i}.jpg"
                assert path.read_bytes() == fake.photo(prefix, i)


def snapshot(folder):
    """{relative path: sha256} of every file under folder."""
    return {str(p.relative_to(folder)): sha(p.read_bytes()) for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def good_split(archives):
    """A complete split already prepared (from Kaggle's train.zip); returns its snapshot."""
    data.prepare("kaggle", archive=archives["kaggle_train"][0])
    shot = snapshot(config.small_dataset_dir())
    assert len(shot) == 401  # 400 images + manifest
    return shot


# ---------------------------------------------------------------- each source end to end

def test_microsoft_download_skips_broken_files_and_keeps_indices(server, archives, capsys):
    _path, blob, valid = archives["microsoft"]
    url = server.add("kagglecatsanddogs_5340.zip", blob)
    dest = data.prepare("microsoft", url=url, sha256=sha(blob))
    assert dest == config.small_dataset_dir()
    expect_split(valid)
    assert split_names("train", "cats")[:6] == ["cat.0.jpg", "cat.1.jpg", "cat.2.jpg", "cat.4.jpg",
                                                "cat.6.jpg", "cat.7.jpg"]
    assert data.current_source() == "microsoft"
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["source"] == "microsoft"
    report = sources.read_report(config.source_dir("microsoft"))
    reasons = {s["name"]: s["reason"] for s in report["skipped"]}
    assert reasons["cat.3.jpg"] == "empty file"
    assert reasons["cat.5.jpg"].startswith("truncated")
    assert reasons["cat.8.jpg"] == "not a JPEG (PNG image)"
    assert reasons["dog.4.jpg"] == "not an image"
    assert set(reasons) == {"cat.3.jpg", "cat.5.jpg", "cat.8.jpg", "dog.4.jpg"}
    assert report["counts"] == {"cats": {"valid": 203, "skipped": 3}, "dogs": {"valid": 205, "skipped": 1}}
    assert "PetImages/Cat/Thumbs.db" in report["ignored"] and "CDLA-Permissive-2.0.pdf" in report["ignored"]
    assert report["archive_sha256"] == sha(blob)
    listed = (config.source_dir("microsoft") / "skipped.txt").read_text()
    assert "cat.3.jpg\tPetImages/Cat/3.jpg\tempty file" in listed
    assert not any(p.name == "Thumbs.db" for p in config.source_dir("microsoft").rglob("*"))
    assert "4 broken photos skipped" in capsys.readouterr().out


def test_second_prepare_reuses_the_source_without_downloading(server, archives):
    _path, blob, valid = archives["microsoft"]
    url = server.add("ms.zip", blob)
    data.prepare("microsoft", url=url, sha256=sha(blob))
    requests_before = len(server.requests)
    data.prepare("microsoft")
    assert len(server.requests) == requests_before
    expect_split(valid)


def test_verified_download_is_kept_and_reused(server, archives):
    _path, blob, valid = archives["microsoft"]
    url = server.add("ms.zip", blob)
    data.prepare("microsoft", url=url, sha256=sha(blob))
    assert (obtain.downloads_dir() / "kagglecatsanddogs_5340.zip").read_bytes() == blob
    shutil.rmtree(config.source_dir("microsoft"))
    data.prepare("microsoft", url=url, sha256=sha(blob), force=True)
    assert len(server.ranges("ms.zip")) == 1  # checked again, not downloaded again
    expect_split(valid)


def test_archive_by_hand_is_checked_against_the_published_size(archives):
    path, blob, _pools = archives["google"]
    with pytest.raises(dl.VerificationError, match="expected 68,606,236 bytes"):
        data.prepare("google", archive=path)
    assert path.read_bytes() == blob and not config.source_dir("google").exists()


def test_download_resumes_after_the_server_drops_the_connection(server, archives, monkeypatch):
    monkeypatch.setattr(dl, "CHUNK", 16 << 10)
    _path, blob, valid = archives["microsoft"]
    url = server.add("ms.zip", blob)
    server.then("ms.zip", ("drop", len(blob) // 3))
    data.prepare("microsoft", url=url, sha256=sha(blob))
    ranges = server.ranges("ms.zip")
    assert ranges[0] is None and ranges[1].startswith("bytes=") and ranges[1] != "bytes=0-"
    expect_split(valid)


def test_google_falls_back_to_second_address_and_carves_validation_and_test(server, archives, monkeypatch,
                                                                            capsys):
    _path, blob, pools = archives["google"]
    first = server.url("gone/cats_and_dogs_filtered.zip")  # answers 404
    second = server.add("old/cats_and_dogs_filtered.zip", blob)
    spec = obtain.SOURCES["google"]
    monkeypatch.setitem(obtain.SOURCES, "google", spec.__class__(**{**spec.__dict__, "urls": (first, second),
                                                                      "size": len(blob)}))
    data.prepare("google")
    out = capsys.readouterr().out
    assert server.ranges("gone/cats_and_dogs_filtered.zip") == [None]
    assert sha(blob) in out and "no checksum is published" in out
    assert "Sizes used per class: train 100, validation 50, test 50" in out
    expect_split(None, pools=pools)
    assert split_names("validation", "cats")[0] == "cat.2000.jpg"
    assert split_names("test", "dogs")[0] == "dog.2050.jpg"
    assert sources.read_report(config.source_dir("google"))["archive_sha256"] == sha(blob)


def test_google_published_size_is_checked(server, archives):
    _path, blob, _pools = archives["google"]
    url = server.add("g.zip", blob)
    with pytest.raises(dl.VerificationError, match=f"expected 68,606,236 bytes, got {len(blob):,} bytes"):
        data.prepare("google", url=url)
    assert (obtain.downloads_dir() / "cats_and_dogs_filtered.zip.bad").exists()
    assert not config.source_dir("google").exists()


def test_google_sizes_are_capped_to_its_folders_and_reported(archives, capsys):
    path, blob, pools = archives["google"]
    data.prepare("google", profile="full", archive=path, sha256=sha(blob))
    assert "Sizes used per class: train 110, validation 50, test 50 (the full profile asks for 1000/500/500" \
        in capsys.readouterr().out
    expect_split(None, sizes=(110, 50, 50), pools=pools)


@pytest.mark.parametrize("which", ["kaggle_outer", "kaggle_train"])
def test_kaggle_archive_by_hand(archives, which):
    path, _blob, valid = archives[which]
    data.prepare("kaggle", archive=path)
    expect_split(valid)
    assert data.current_source() == "kaggle"
    assert not list(config.data_dir().rglob(".*train.zip"))  # nested train.zip scratch file removed


def fake_kaggle(tmp_path, monkeypatch, mode, archive=None):
    """Put a `kaggle` executable on PATH that copies `archive` or answers like Kaggle's 401/403."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "kaggle"
    script.write_text(f"""#!{sys.executable}
import shutil, sys, pathlib
pathlib.Path({str(tmp_path / 'kaggle-argv.txt')!r}).write_text(" ".join(sys.argv[1:]))
mode = {mode!r}
if mode == "401":
    print("401 - Unauthorized - Unauthenticated"); sys.exit(1)
if mode == "403":
    print("403 - Forbidden - You must accept this competition's rules before you'll be able to download files.")
    sys.exit(1)
folder = pathlib.Path(sys.argv[sys.argv.index("-p") + 1])
shutil.copyfile({str(archive)!r}, folder / "dogs-vs-cats.zip")
print("Downloading dogs-vs-cats.zip to", folder)
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("KAGGLE_USERNAME", "learner")
    monkeypatch.setenv("KAGGLE_KEY", "0123456789abcdef")
    return tmp_path / "kaggle-argv.txt"


def test_kaggle_command_downloads_the_competition_archive(archives, tmp_path, monkeypatch):
    path, _blob, valid = archives["kaggle_outer"]
    argv = fake_kaggle(tmp_path, monkeypatch, "ok", path)
    data.prepare("kaggle")
    assert argv.read_text() == f"competitions download -c dogs-vs-cats -p {obtain.downloads_dir()}"
    expect_split(valid)


@pytest.mark.parametrize("mode, words", [("401", "credentials were not accepted"),
                                         ("403", "has not accepted this competition's rules")])
def test_kaggle_refusals_are_explained(tmp_path, monkeypatch, mode, words):
    fake_kaggle(tmp_path, monkeypatch, mode)
    with pytest.raises(sources.SourceError, match=words) as err:
        data.prepare("kaggle")
    assert "--archive PATH/TO/dogs-vs-cats.zip" in str(err.value)


def test_kaggle_without_credentials_or_command(tmp_path, monkeypatch):
    fake_kaggle(tmp_path, monkeypatch, "ok", tmp_path / "never-used.zip")
    monkeypatch.delenv("KAGGLE_USERNAME")
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "no-such-folder"))
    with pytest.raises(sources.SourceError, match="No Kaggle credentials"):
        data.prepare("kaggle")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(sources.SourceError, match="pip install kaggle"):
        data.prepare("kaggle")


def test_kaggle_mirror_failure_explains_the_manual_download(server):
    with pytest.raises(sources.SourceError, match="Download All") as err:
        data.prepare("kaggle", url=server.url("missing.zip"))
    assert "404" in str(err.value) and "--archive PATH/TO/dogs-vs-cats.zip" in str(err.value)


# ---------------------------------------------------------------- failures leave good data alone

def test_published_checksum_mismatch_stops_and_keeps_the_file_aside(server, archives, good_split):
    _path, blob, _valid = archives["microsoft"]
    url = server.add("mirror.zip", blob)
    with pytest.raises(dl.VerificationError) as err:
        data.prepare("microsoft", url=url)  # a mirror serving a different file
    assert obtain.SOURCES["microsoft"].size and f"{len(blob):,}" in str(err.value)
    assert (obtain.downloads_dir() / "kagglecatsanddogs_5340.zip.bad").read_bytes() == blob
    assert snapshot(config.small_dataset_dir()) == good_split


def test_checksum_mismatch_prints_both_values(server, archives, good_split):
    path, blob, _valid = archives["microsoft"]
    url = server.add("ms.zip", blob)
    with pytest.raises(dl.VerificationError) as err:
        data.prepare("microsoft", url=url, sha256="ab" * 32)
    assert "ab" * 32 in str(err.value) and sha(blob) in str(err.value)
    assert not config.source_dir("microsoft").exists()
    assert snapshot(config.small_dataset_dir()) == good_split
    with pytest.raises(dl.VerificationError, match="wrong sha256"):  # same check for a file given by hand
        data.prepare("microsoft", archive=path, sha256="ab" * 32)
    assert path.exists()  # the learner's own file is not renamed


@pytest.mark.parametrize("status", [404, 500])
def test_http_errors_say_what_to_download_by_hand(server, archives, good_split, status):
    server.then("ms.zip", *[status] * 5)
    with pytest.raises(sources.SourceError) as err:
        data.prepare("microsoft", url=server.url("ms.zip"), sha256="00" * 32)
    message = str(err.value)
    assert str(status) in message
    assert "kagglecatsanddogs_5340.zip" in message and "824,887,076 bytes" in message
    assert "python -m helpers data --source microsoft --archive PATH/TO/kagglecatsanddogs_5340.zip" in message
    assert "make data SOURCE=microsoft ARCHIVE=" in message
    assert len(server.ranges("ms.zip")) == (1 if status == 404 else dl.RETRIES + 1)
    assert snapshot(config.small_dataset_dir()) == good_split


def test_unreachable_host(archives, good_split):
    with pytest.raises(sources.SourceError, match="refused"):
        data.prepare("microsoft", url=fake.closed_port_url(), sha256="00" * 32)
    assert snapshot(config.small_dataset_dir()) == good_split


def test_zip_slip_entry_is_rejected(archives, good_split, tmp_path):
    path, blob, _valid = archives["zip_slip"]
    with pytest.raises(sources.SourceError, match="zip slip"):
        data.prepare("microsoft", archive=path, sha256=sha(blob))
    assert not list(tmp_path.rglob("escaped.jpg")) and not list(path.parent.parent.rglob("escaped.jpg"))
    assert not config.source_dir("microsoft").exists()
    assert snapshot(config.small_dataset_dir()) == good_split


def test_not_enough_valid_images(archives, good_split):
    path, blob, valid = archives["microsoft_short"]
    assert len(valid["cat"]) == 199
    with pytest.raises(ValueError, match="found 199 cats"):
        data.prepare("microsoft", archive=path, sha256=sha(blob))
    assert snapshot(config.small_dataset_dir()) == good_split


def test_archive_of_another_source_is_named(archives, good_split):
    path, _blob, _valid = archives["microsoft"]
    with pytest.raises(sources.SourceError, match="--source microsoft"):
        data.prepare("kaggle", archive=path)
    assert snapshot(config.small_dataset_dir()) == good_split


def test_incomplete_archive_is_refused(archives, good_split, tmp_path):
    _path, blob, _valid = archives["kaggle_train"]
    cut = tmp_path / "train.zip"
    cut.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(sources.SourceError, match="not a valid zip"):
        data.prepare("kaggle", archive=cut)
    assert snapshot(config.small_dataset_dir()) == good_split


def test_free_space_is_checked_before_extraction(archives, good_split, monkeypatch):
    path, blob, _valid = archives["microsoft"]
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(dl.shutil, "disk_usage", lambda p: usage(10**9, 10**9 - 10**6, 10**6))
    with pytest.raises(dl.DiskSpaceError, match="extract the photos"):
        data.prepare("microsoft", archive=path, sha256=sha(blob))
    assert snapshot(config.small_dataset_dir()) == good_split


# ---------------------------------------------------------------- the pieces

def test_check_jpeg_names_each_problem():
    assert archive_checks.check_jpeg(fake.photo("cat", 1)) is None
    assert archive_checks.check_jpeg(b"") == "empty file"
    assert archive_checks.check_jpeg(fake.truncated_jpeg("cat", 1)).startswith("truncated or corrupt JPEG")
    assert archive_checks.check_jpeg(fake.png_bytes()) == "not a JPEG (PNG image)"
    gif = io.BytesIO()
    Image.new("P", (8, 8)).save(gif, "GIF")
    assert archive_checks.check_jpeg(gif.getvalue()) == "not a JPEG (GIF image)"
    assert archive_checks.check_jpeg(b"hello") == "not an image"


@pytest.mark.parametrize("name, unsafe", [("PetImages/Cat/1.jpg", False), ("../x.jpg", True),
                                          ("a/../../x.jpg", True), ("/etc/passwd", True),
                                          ("C:/Windows/x.jpg", True), ("a\\..\\..\\x.jpg", True)])
def test_unsafe_entry(name, unsafe):
    assert archive_checks.unsafe_entry(name) is unsafe


def test_unknown_source_lists_the_real_ones():
    with pytest.raises(sources.SourceError, match="microsoft, google, kaggle"):
        obtain.get_source("flickr")


def test_command_line_and_status_name_the_source(server, archives, capsys):
    from helpers.__main__ import main

    _path, blob, _valid = archives["microsoft"]
    url = server.add("ms.zip", blob)
    assert main(["data", "--source", "microsoft", "--url", url, "--sha256", sha(blob)]) == 0
    assert main(["status"]) == 0
    assert "source: microsoft" in capsys.readouterr().out
    # the source prepared from this very archive is reused: nothing is downloaded again
    assert main(["data", "--source", "microsoft", "--url", server.url("nope.zip"), "--sha256", sha(blob)]) == 0
    assert server.ranges("nope.zip") == []
    assert main(["data", "--source", "microsoft", "--url", server.url("nope.zip"), "--sha256", "0" * 64]) == 1
    assert "--archive PATH/TO/kagglecatsanddogs_5340.zip" in capsys.readouterr().err


# ---------------------------------------------------------------- real photos (make test-real)

@pytest.mark.real
def test_real_archive_gives_the_quick_split():
    """Kaggle's train.zip layout with real photos: every photo kept, first ones in index order."""
    archive = os.environ.get("COURSE_REAL_ARCHIVE")
    if not archive:
        pytest.skip("set COURSE_REAL_ARCHIVE to a real train.zip (make test-real ARCHIVE=...)")
    data.prepare("kaggle", archive=archive)
    report = sources.read_report(config.source_dir("kaggle"))
    with zipfile.ZipFile(archive) as zf:
        names = [n for n in zf.namelist() if obtain.SOURCES["kaggle"].photos.fullmatch(n)]
    total = report["counts"]["cats"]["valid"] + report["counts"]["dogs"]["valid"]
    assert total + len(report["skipped"]) == len(names)
    assert data.split_counts() == {s: {"cats": n, "dogs": n} for s, n in zip(config.SPLITS, (100, 50, 50))}
    for cls, prefix in (("cats", "cat"), ("dogs", "dog")):
        valid = sorted(int(p.name.split(".")[1]) for p in (config.source_dir("kaggle") / "train").glob(f"{prefix}.*"))
        assert split_names("train", cls) == [f"{prefix}.{i}.jpg" for i in valid[:100]]
        assert split_names("test", cls) == [f"{prefix}.{i}.jpg" for i in valid[150:200]]
    sizes = {Image.open(p).size for p in (config.small_dataset_dir() / "train" / "cats").iterdir()}
    assert len(sizes) > 20  # real photos come in many sizes
