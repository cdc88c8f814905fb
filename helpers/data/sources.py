"""The real dogs-vs-cats photos: a source's verified archive turned into photos in Kaggle's layout, fetched into use.

fetch(source) obtains an archive (helpers.data.obtain: downloaded or taken, verified), and writes the valid
images into <data>/sources/<source>/train/cat.N.jpg in Kaggle's layout (N is the index in the original archive),
with report.json and skipped.txt listing every file that was left out and why, and SHA256SUMS (the
checksum of every photo written, checked again by `--force`). Reading and checking the archive itself
is helpers.data.archives' job. fetching(source) does the same but keeps new photos beside the folder in
use until its caller commits them (data.prepare does once the split made from them is complete).
"""
import contextlib
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from .. import config
from .archives import (
    SourceError,
    detect_layout,
    normalise,
    open_inner,
    read_report,
    reject_unsafe,
    source_problem,
    summary,
    write_report,
)
from .download import DiskSpaceError, DownloadError, VerificationError
from .folders import data_lock, lock_folder, remove_quietly, swap_in, tidy
from .obtain import SOURCES, check_arguments, get_source, layout_patterns, obtain_archive


def _open_layout(spec, zf, label, scratch):
    """(ZipFile, layout) of the photos: opens Kaggle's nested train.zip (extracted to `scratch`) if needed."""
    reject_unsafe(zf, label)
    layout = detect_layout(zf.namelist(), layout_patterns())
    if layout == "kaggle-outer":
        inner = next(i for i in zf.infolist() if PurePosixPath(i.filename).name.lower() == "train.zip")
        label, zf = f"train.zip inside {label}", open_inner(zf, inner, label, scratch)
        reject_unsafe(zf, label)
        layout = detect_layout(zf.namelist(), layout_patterns())
        if layout == "kaggle-outer":  # a train.zip inside train.zip: not a layout any release has
            zf.close()
            raise SourceError(f"{label} holds another train.zip instead of the photos (train/cat.N.jpg): it "
                              "is not a known release. Pass the train.zip that holds the photos themselves, or "
                              "download the archive again.")
    if layout not in SOURCES:
        zf.close()
        raise SourceError(f"{label} does not look like any dogs-vs-cats archive this course knows "
                          f"(expected {spec.layout}).")
    if layout != spec.name:
        raise SourceError(f"{label} has the {layout} layout ({SOURCES[layout].layout}), not the "
                          f"{spec.name} one: run the command with --source {layout} instead.")
    return zf, layout


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


def build(spec, archive, archive_sha, work, progress=True):
    """Normalise a verified archive into the new folder `work` (removed when anything fails); return the report.

    `work` is a temporary sibling of the source's folder (.<name>.partial): the caller swaps it in.
    """
    work = Path(work)
    work.parent.mkdir(parents=True, exist_ok=True)
    scratch = work.parent / f".{work.name[1:-len('.partial')]}.train.zip"
    remove_quietly(work)
    done = False
    try:
        try:
            zf = zipfile.ZipFile(archive)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as e:
            raise SourceError(f"{Path(archive).name} is not a valid zip archive ({e}): an incomplete download? "
                              "Download it again.") from None
        with zf:
            photos_zf, layout = _open_layout(spec, zf, Path(archive).name, scratch)
            with photos_zf:
                result = normalise(photos_zf, SOURCES[layout].photos, work, progress=progress)
        report = {
            "source": spec.name, "title": spec.title, "license": spec.license,
            "archive": Path(archive).name, "archive_size": Path(archive).stat().st_size,
            "archive_sha256": archive_sha, "layout": layout,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "split_limits": split_limits(spec, result["pools"]),
            "notes": notes_for(spec, result["pools"]), **result,
        }
        write_report(work, report)
        done = True
    finally:  # never raises: the error that stopped the build is the one reported
        if not done:
            remove_quietly(work)
        remove_quietly(scratch)
    return report


class Staged:
    """A source's photos for one run: the folder in use (folder is dest), or new ones built beside it.

    label names them in messages; commit() swaps new photos in for dest (once) and returns dest.
    """

    def __init__(self, dest, folder, label):
        self.dest, self.folder, self.label = Path(dest), Path(folder), label

    def commit(self):
        if self.folder != self.dest:
            swap_in(self.folder, self.dest)
            self.folder = self.dest
            self.label = str(self.dest)
        return self.dest


@contextlib.contextmanager
def fetching(source, dest=None, archive=None, url=None, sha256=None, progress=True, force=False):
    """Get a real source's photos in Kaggle's layout, holding the data folder's lock; yield a Staged.

    New photos are built in .<name>.partial beside `dest` (default <data>/sources/<source>) and replace it
    only when the caller calls commit(); otherwise (an error, or no commit) they are removed and `dest`
    stays as it was. archive: a file downloaded by hand; url/sha256: another address or checksum
    (mirrors, tests). The archive is verified (size, sha256) before use. force: check the prepared
    photos again against SHA256SUMS, and rebuild them from the archive when anything changed.
    """
    spec = get_source(source)
    check_arguments(archive, url, sha256)
    dest = Path(dest) if dest is not None else config.source_dir(spec.name)
    work = dest.parent / f".{dest.name}.partial"
    with data_lock(lock_folder(dest)):
        tidy(dest)
        try:
            yield _stage(spec, dest, work, archive, url, sha256, progress, force)
        finally:
            remove_quietly(work)  # photos never committed (after a commit, nothing is there)


def fetch(source, dest=None, archive=None, url=None, sha256=None, progress=True, force=False):
    """Get a real source into `dest` (default <data>/sources/<source>) in Kaggle's layout; return dest.

    The same as fetching(...), committed at once: an existing folder is replaced only on success.
    """
    with fetching(source, dest, archive=archive, url=url, sha256=sha256, progress=progress, force=force) as staged:
        return staged.commit()


def _stage(spec, dest, work, archive, url, sha256, progress, force):
    """fetching()'s work: the photos in use when they fit the request, else new ones built in `work`."""
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
        return Staged(dest, dest, str(dest))
    path, actual_sha = obtain_archive(spec, archive, url, sha256, progress)
    print(f"{path.name}: {path.stat().st_size:,} bytes, sha256 {actual_sha}"
          + ("" if spec.sha256 or sha256 else " (computed here; no checksum is published)"), flush=True)
    if report and report.get("archive_sha256") == actual_sha and report.get("source") == spec.name:
        print(f"{dest.name}/ already holds the photos of this archive.")
        return Staged(dest, dest, str(dest))
    report = build(spec, path, actual_sha, work, progress)
    print(summary(report), flush=True)
    return Staged(dest, work, f"the {spec.name} archive {path.name}")


__all__ = [
    "DiskSpaceError",
    "DownloadError",
    "SourceError",
    "Staged",
    "VerificationError",
    "fetch",
    "fetching",
    "read_report",
    "source_problem",
    "split_limits",
]
