"""Command line: `python -m helpers data` prepares the data set, `status` reports, `predict` judges image files.

Each subcommand is an `add_<name>_parser(subparsers)` function plus a `cmd_<name>(args)` function;
add one by writing both and listing the adder in SUBCOMMANDS.
"""
import argparse
import os
import signal
import sys

from . import config


def _apply_common(args):
    """Profile and data folder flags become the environment every helper reads."""
    if getattr(args, "profile", None):
        os.environ["COURSE_PROFILE"] = config.profile_name(args.profile)
    if getattr(args, "data_dir", None) is not None:
        if not args.data_dir.strip():
            raise ValueError("--data-dir is empty: pass a folder (or leave the option out to use COURSE_DATA_DIR "
                             "or the repository's data/).")
        os.environ["COURSE_DATA_DIR"] = os.path.abspath(os.path.expanduser(args.data_dir))


def add_data_parser(sub):
    """`data`: prepare the source and the book's split for a profile."""
    p = sub.add_parser("data", help="prepare the data set (source images + train/validation/test split)")
    p.add_argument("--source", default=None,
                   help="where the images come from: 'synthetic' (offline) or a real-photo source "
                        "(default: the source of the split already prepared, else synthetic)")
    p.add_argument("--profile", choices=sorted(config.PROFILES), help="quick or full (default: COURSE_PROFILE or full)")
    p.add_argument("--data-dir", help="data folder (default: COURSE_DATA_DIR or <repo>/data)")
    p.add_argument("--force", action="store_true", help="rebuild even when a complete data set exists")
    p.add_argument("--archive", help="a local archive of real photos (real-photo sources only)")
    p.add_argument("--url", help="download the archive from this address (real-photo sources only)")
    p.add_argument("--sha256", help="expected SHA-256 of the archive (real-photo sources only)")
    p.set_defaults(func=cmd_data)


def cmd_data(args):
    """Prepare the data set and print where it is."""
    from . import data

    _apply_common(args)
    profile = config.get_profile()
    if args.source is not None:  # malformed --archive/--url/--sha256: one line before anything is done
        data.check_request(args.source.strip().lower(), args.archive, args.url, args.sha256)
    if args.source is None:  # the current split's source, decided again by prepare once it holds the lock
        source = data.default_source()
        how = " (the current split's; --source switches)" if data.current_source() else ""
    else:
        source, how = args.source, ""
    print(f"Preparing the {profile.name} profile's data set from source {source!r}{how} ...", flush=True)
    dest = data.prepare(args.source, profile=profile.name, force=args.force,
                        archive=args.archive, url=args.url, sha256=args.sha256)
    print(f"Data set ready in {dest}")
    return 0


def add_status_parser(sub):
    """`status`: profile, data source, split counts and trained models."""
    p = sub.add_parser("status", help="show profile, data source, split counts and trained models")
    p.add_argument("--profile", choices=sorted(config.PROFILES), help="quick or full (default: COURSE_PROFILE or full)")
    p.add_argument("--data-dir", help="data folder (default: COURSE_DATA_DIR or <repo>/data)")
    p.set_defaults(func=cmd_status)


def cmd_status(args):
    """Print what is prepared and trained; never fails just because nothing is there yet."""
    from . import data, saved_runs
    from .data import folders

    _apply_common(args)
    profile = config.get_profile()
    print(f"profile: {profile.name} ({profile.description}); needs "
          f"{profile.train}/{profile.validation}/{profile.test} images per class")
    dest = config.small_dataset_dir()
    restored = data.restore_split(dest)
    state, source = data.split_state(dest)
    print(f"data: {dest}")
    other_run = folders.busy(config.data_dir())
    if other_run is not None:
        print(f"  (another run, {other_run}, is preparing data here now: what follows may change)")
    if restored is not None:
        print(f"  (put back the split an interrupted run had left as {restored.name})")
    if state == "missing":
        print("  not prepared yet: run `make data` or `python -m helpers data`")
    else:
        counts = data.split_counts()
        print(f"  source: {source or 'unknown'}" + (" (unverified)" if state == "unverified" else ""))
        for split in config.SPLITS:
            print(f"  {split:<10} " + "  ".join(f"{cls}: {counts[split][cls]}" for cls in config.CLASSES))
        if state == "unverified":
            print("  (present but unverified: its manifest.json is missing or damaged; run `make data` or "
                  "`python -m helpers data` to rebuild it)")
        else:
            note = split_note(data.read_manifest(), counts, profile)
            if note:
                print(f"  ({note})")
            changed = data.changed_files(dest)
            if changed:
                more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
                print(f"  ({changed[0]}{more} changed since the split was made (checked against manifest.json): "
                      "run `python -m helpers data` to copy them again from the source)")
        extra = data.not_photos(dest)
        if extra:
            print(f"  ({len(extra)} file(s) that are not photos of the split, e.g. {extra[0]}, are ignored)")
    print(f"models: {config.models_dir()}")
    for line in saved_runs.models_report():  # each run's model and record, matched or not; never temporary files
        print(f"  {line}")
    return 0


def split_note(manifest, counts, profile):
    """What is off with the prepared split, or '' : built for another profile, changed on disk, or capped.

    The manifest records the counts the split was planned with; a source may cap them below the
    profile's sizes (Google's archive has 1,000 training and 500 held-out images per class), which is
    not a reason to rebuild.
    """
    manifest = manifest or {}
    rebuild = "run `python -m helpers data` to rebuild"
    built_for = manifest.get("profile")
    if built_for and built_for != profile.name:
        return f"prepared for the {built_for} profile, not {profile.name}: {rebuild}"
    planned = manifest.get("counts")
    if planned is None:
        wanted = profile.split_sizes()
        planned = {s: {c: wanted[s] for c in config.CLASSES} for s in config.SPLITS}
    if counts != planned:
        return f"the folders no longer hold the images the split was made with: {rebuild}"
    wanted = profile.split_sizes()
    if any(planned[s][c] != wanted[s] for s in config.SPLITS for c in config.CLASSES):
        sizes = "/".join(str(min(planned[s].values())) for s in config.SPLITS)
        return (f"{sizes} per class: the source holds fewer images than the {profile.name} profile's "
                f"{profile.train}/{profile.validation}/{profile.test}")
    return ""


def add_predict_parser(sub):
    """`predict IMAGE [IMAGE ...] [--model PATH]`: cat or dog, with a probability, per file."""
    p = sub.add_parser("predict", help="cat or dog, with a probability, for image files")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (JPEG, PNG, ...)")
    p.add_argument("--model", default=None, metavar="PATH",
                   help="a saved .keras model (default: the models folder's "
                        "cats_and_dogs_small_2.keras, else _1)")
    p.set_defaults(func=cmd_predict)


def cmd_predict(args):
    """One line per file (helpers.predictions); exit 1 if any file failed, 2 if the model did."""
    from . import predictions

    try:
        model = predictions.load_classifier(args.model)
    except predictions.ModelError as err:
        print(f"predict: {err}", file=sys.stderr)
        return 2
    failed = 0
    for result in predictions.predict_files(args.images, model=model):
        print(result.line(), file=sys.stderr if result.error else sys.stdout)
        failed += bool(result.error)
    return 1 if failed else 0


SUBCOMMANDS = [add_data_parser, add_status_parser, add_predict_parser]


def build_parser():
    """The argparse parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in SUBCOMMANDS:
        add(sub)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: temporary folders are removed on the way out."""


def _terminate(signum, frame):
    """SIGTERM handler: raise Terminated in the main thread."""
    raise Terminated()


# Bad names or options (ValueError), disk and file problems (OSError) and the data commands' own errors (a busy
# folder, a failed download, a wrong checksum, an unusable archive) get one line; anything else is a bug and keeps
# its traceback.
def expected_errors():
    """The error types a learner can fix, printed as one line without a traceback."""
    from .data import download, folders, sources

    return (ValueError, OSError, folders.BusyError, folders.DiskError, download.DownloadError,
            download.VerificationError, download.DiskSpaceError, sources.SourceError)


def _message(err):
    """The one line printed for an expected error; disk errors name the path and what to do."""
    if isinstance(err, OSError) and getattr(err, "errno", None) is not None:
        from .data.folders import explain_os_error

        return explain_os_error(err, config.data_dir()) or str(err)
    return str(err)


def main(argv=None):
    """Run one subcommand; return its exit code (0 ok, 1 a fixable error, 130 Ctrl-C, 143 SIGTERM)."""
    args = build_parser().parse_args(argv)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: leave SIGTERM alone
        previous = None
    try:
        return args.func(args) or 0
    except KeyboardInterrupt as err:
        print("interrupted: nothing half-written was kept; run the command again", file=sys.stderr)
        return 143 if isinstance(err, Terminated) else 130
    except expected_errors() as err:
        print(f"error: {_message(err)}", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
