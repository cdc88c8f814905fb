"""How fast this machine runs the chapter, measured against its own matmul rate (`make bench`).

    python benchmarks/bench.py              # the README's figures, under 20 minutes on 2 cores: results.json
    python benchmarks/bench.py --long       # also every TensorFlow setting, the pipelines, whole epochs: an hour+
    python benchmarks/bench.py --only-cell  # the notebooks' fits only (notebooks 04 and 06), into results.json
    python benchmarks/bench.py --quick      # a few minutes, smaller samples; writes build/bench/results-quick.json

Every figure comes from the same run, every ratio from at least 3 alternating rounds (1 with --quick). The jobs,
one module each: the training/matmul ratio and, with --long, rates per TensorFlow setting (benchmarks/compute.py),
float32 against mixed_bfloat16 (precision.py), the notebooks' fits with and without the optional speed-up cell
(fits.py), the input pipelines alone and how hard the data set is (pipelines.py, difficulty.py: --long);
report.py writes the tables.
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import compute, difficulty, fits, pipelines, precision, report
from benchmarks.common import REPO, bench_data, data_source, load_average, machine
from helpers import config, speed
from helpers.files import write_text_atomic

RESULTS = REPO / "benchmarks" / "results.json"
QUICK_RESULTS = REPO / "build" / "bench" / "results-quick.json"
RESULTS_FORMAT = 4  # 4: a default run of minutes (rates, bfloat16, windowed fits); 3 and earlier are history


def read_results(path):
    """A results file in this format (`--render` and `--only-cell` refuse older ones)."""
    results = json.loads(Path(path).read_text(encoding="utf-8"))
    if results.get("format") != RESULTS_FORMAT:
        raise SystemExit(f"{path} is in results format {results.get('format')}, not {RESULTS_FORMAT}: "
                         "run the whole bench again")
    return results


def cell_section(results, split_root, args, rounds, log):
    """The notebooks' fits into results: the optional cell's paired ratios per notebook, and bfloat16's where its
    training step could reach precision.GAIN (or --bf16-fits asks)."""
    profile = "quick" if args.quick else "full"
    timed = args.cell_epochs or (1 if args.quick else 2)
    window = args.window or (1.0 if args.long else fits.WINDOW)
    steps = results.get("precision", {}).get("steps")
    with_bf16 = args.bf16_fits or bool(steps and precision.worth_a_fit(steps))
    sides = fits.SIDES + ((fits.BFLOAT16,) if with_bf16 else ())
    log(f"the notebooks' fits: 04 and 06, sides {', '.join(sides)}, {rounds} rotating rounds")
    started, before = time.perf_counter(), machine()
    found = fits.measure_fits(split_root, profile, rounds, timed, log, window=window, sides=sides)
    results["optional_cell"] = found["cell"]
    if "precision" in results:
        results["precision"]["end_to_end"] = found.get(fits.BFLOAT16)
        results["precision"]["verdict"] = precision.verdict(steps, found.get(fits.BFLOAT16))
    results["fits_run"] = {"machine": before, "profile": profile, "source": data_source(split_root),
                           "rounds": rounds, "timed_epochs": timed, "window": window, "sides": list(sides),
                           "threshold": fits.THRESHOLD, "seconds": round(time.perf_counter() - started),
                           "load_average_at_end": load_average()}
    results["ab"] = ([row for row in results.get("ab", []) if not row["id"].startswith("cell_")]
                     + report.cell_rows(results["optional_cell"]))


def precision_section(results, args, rounds, log):
    """float32 against mixed_bfloat16: oneDNN's kernels, then the two models' steps in alternating rounds."""
    started = time.perf_counter()
    log("mixed precision: what oneDNN runs a bfloat16 step with (child process)")
    kernels = precision.onednn_kernels()
    log(f"  instruction set {kernels['isa']}; kernels by source precision {kernels['kernels']}")
    log(f"mixed precision: float32 / mixed_bfloat16 steps of notebooks 04's and 06's models, {rounds} rounds")
    steps = precision.measure_steps(rounds, 2 if args.quick else 3, log)
    results["precision"] = {"onednn": kernels, "steps": steps, "gain": precision.GAIN,
                            "verdict": precision.verdict(steps), "end_to_end": None,
                            "seconds": round(time.perf_counter() - started)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller samples, one round, quick split: a few minutes")
    parser.add_argument("--long", action="store_true", help="also every TensorFlow setting, the input pipelines and "
                        "the data set's difficulty; the fits in whole epochs (an hour or more on 2 cores)")
    parser.add_argument("--rounds", type=int, help="alternating rounds per setting (default 3, quick 1)")
    parser.add_argument("--data-dir", help="use this prepared data folder instead of the synthetic bench split")
    parser.add_argument("--photos-dir", help="with --long, also measure the input pipelines on this prepared folder "
                        "(e.g. the real photos; only numbers are recorded)")
    parser.add_argument("--cell-data-dir", help="the notebooks' fits on this prepared data folder (default: "
                        "--data-dir's, else the synthetic bench split); only numbers are recorded")
    parser.add_argument("--cell-epochs", type=int, help="timed epochs per fit of the notebooks' fits, after "
                        "a warm-up epoch (default 2, quick 1)")
    parser.add_argument("--window", type=float, help="each of those epochs as this share of the book's steps "
                        f"(default {fits.WINDOW}, --long 1)")
    parser.add_argument("--bf16-fits", action="store_true", help="fit in mixed_bfloat16 too, even where its "
                        f"training step is not {precision.GAIN}x faster")
    parser.add_argument("--only-cell", action="store_true",
                        help="only the notebooks' fits, merged into the existing results file")
    parser.add_argument("--difficulty-epochs", type=int,
                        help="convnet epochs for the difficulty check (--long; default 5, quick 3)")
    parser.add_argument("--out", help="results file (default benchmarks/results.json, quick: build/bench/...)")
    parser.add_argument("--no-readme", action="store_true", help="do not update the table in benchmarks/README.md")
    parser.add_argument("--render", action="store_true",
                        help="only print the table of an existing results file (and refresh benchmarks/README.md)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--in-process-ab", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(compute.compute_child(args.quick, args.in_process_ab)))
        return 0

    if args.render:
        results = read_results(Path(args.out or RESULTS))
        markdown = report.table(results)
        print(markdown)
        if not args.no_readme and not args.out:
            report.write_readme_table(markdown)
        return 0

    started = time.perf_counter()
    rounds = args.rounds or (1 if args.quick else 3)
    out = Path(args.out) if args.out else (QUICK_RESULTS if args.quick else RESULTS)

    def log(msg):
        print(f"[{time.perf_counter() - started:6.0f}s] {msg}", file=sys.stderr, flush=True)

    def cell_split():
        return bench_data(args.quick, args.cell_data_dir or args.data_dir, log)

    if args.only_cell:
        if not out.exists():
            raise SystemExit(f"--only-cell adds to an existing results file and {out} does not exist: "
                             "run the whole bench first")
        results = read_results(out)
        cell_section(results, cell_split(), args, rounds, log)
        return finish(results, out, args, log)

    results = {"format": RESULTS_FORMAT, "quick": args.quick, "long": args.long, "machine": machine()}
    log(f"machine: {results['machine']['cpu']}, {results['machine']['cores']} cores")
    model = compute.baseline()
    results["flops"] = {"forward_per_image": speed.forward_flops_per_image(model),
                        "training_per_image": speed.training_flops_per_image(model)}
    log(f"training/matmul: the baseline's steps against the matmul rate, {rounds} rounds")
    results["rates"] = compute.steady_rates(rounds, args.quick, log)
    precision_section(results, args, rounds, log)
    split_root = bench_data(args.quick, args.data_dir, log) if args.long else cell_split()
    results["data"] = {"split": str(split_root.relative_to(REPO)) if split_root.is_relative_to(REPO) else "given",
                       "source": data_source(split_root)}
    if args.long:
        log("compute rates per TensorFlow setting (child processes, alternating)")
        children = compute.run_children(args.quick, rounds, log)
        results["settings"] = compute.summarise_children(children)
        results["settings_runs"] = children
        results["ab"] = report.ab_rows(results["settings"])
        log("input pipelines")
        results["pipelines"] = pipelines.measure_pipelines(split_root, args.quick, log)
        if args.photos_dir:
            log("input pipelines on the photos in --photos-dir")
            photos = Path(args.photos_dir).resolve() / config.SMALL_DATASET
            results["pipelines_photos"] = pipelines.measure_pipelines(photos, args.quick, log)
    cell_section(results, cell_split(), args, rounds, log)
    if args.long:
        log("data set difficulty: logistic regression, then the baseline convnet")
        results["difficulty"] = {
            "logistic": difficulty.logistic_regression_accuracy(split_root),
            "convnet": difficulty.convnet_accuracy(split_root, args.difficulty_epochs or (3 if args.quick else 5))}
    results["bench_seconds"] = round(time.perf_counter() - started)
    results["machine"]["load_average_at_end"] = load_average()
    return finish(results, out, args, log)


def finish(results, out, args, log):
    """Print the table, write the results file (and the README table for a full run of the default file)."""
    markdown = report.table(results)
    print(markdown)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, json.dumps(results, indent=1, default=str))
    log(f"wrote {out}")
    if not args.quick and not args.no_readme and not args.out:
        report.write_readme_table(markdown)
        log(f"updated the table in {report.README.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
