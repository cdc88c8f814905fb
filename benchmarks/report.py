"""The results as people read them: labels, the Markdown tables (printed, and in benchmarks/README.md), the A/B rows."""
from benchmarks.common import REPO, fmt
from benchmarks.compute import DEFAULT_SETTING
from helpers.files import write_text_atomic

README = REPO / "benchmarks" / "README.md"
TABLE_START, TABLE_END = "<!-- the bench table starts here -->", "<!-- the bench table ends here -->"

# Results are keyed by these short ids; the labels are only for people and may change freely.
LABELS = {
    "onednn_off": "oneDNN off (TensorFlow's default here)",
    "onednn_on": "oneDNN on (course default)",
    "onednn_on_interop1": "oneDNN on, 1 inter-op thread",
    "flow_rescale": "flow_from_directory, rescale only",
    "tfdata_rescale": "tf.data + preprocessing layers, rescale only",
    "tfdata_rescale_cached": "tf.data + preprocessing layers, rescale only, cached",
    "flow_augmented": "flow_from_directory, augmented",
    "flow_augmented_pillow": "flow_from_directory, augmented, transforms by Pillow (speed.with_pillow_transforms)",
    "tfdata_augmented": "tf.data + preprocessing layers, augmented",
    "tfdata_augmented_cached": "tf.data + preprocessing layers, augmented, cached",
    "onednn_training": "oneDNN kernels (TF_ENABLE_ONEDNN_OPTS=1), training",
    "onednn_inference": "oneDNN kernels, inference",
    "interop1": "1 inter-op thread instead of TensorFlow's 2 (training)",
    "xla": "XLA jit_compile=True (training)",
    "eval_batch100": "Evaluation batch 100 instead of 20",
    "cell_04": "Notebook 04's optional cell: training and validation through speed.steady_feed",
    "cell_06": "Notebook 06's optional cell: Pillow transforms, validation through speed.steady_feed",
}


def table(results):
    """The results as a Markdown table (also printed)."""
    m, rates = results["machine"], results["rates"]
    flops = results["flops"]["training_per_image"] / 1e9
    rows = [
        ("Machine", f"{m['cpu']}, {m['cores']} cores{', GPU ' + ', '.join(m['gpu']) if m['gpu'] else ''}; "
                    f"TensorFlow {m['tensorflow']}, Keras {m['keras']}; {m['date']}; load average "
                    f"{m['load_average_at_start'][1]:.1f} before, "
                    f"{m.get('load_average_at_end', ['-'] * 3)[1]} after (5 min); the run took "
                    f"{results['bench_seconds'] / 60:.0f} min{'; quick run' if results['quick'] else ''}"),
        ("float32 2048x2048 matmul (the limit)", f"{fmt(rates['matmul_gflops'], 1)} GFLOP/s"),
        ("FLOPs per training image (baseline)",
         f"{flops:.3f} GFLOP (forward {results['flops']['forward_per_image'] / 1e9:.3f} x 3)"),
        ("Baseline training step, batch 20, in memory",
         f"{fmt(rates['train_images_per_s'], 1)} images/s = {fmt(rates['train_gflops'], 1)} GFLOP/s = "
         f"{fmt(rates['train_fraction_of_matmul'], 2)} of the matmul rate (per round: "
         f"{', '.join(f'{r:.2f}' for r in rates['train_fraction_rounds'])})"),
        ("Baseline inference step, batch 20", f"{fmt(rates['inference_images_per_s'], 1)} images/s"),
    ]
    rows += precision_rows(results.get("precision"))
    for key, rate in results.get("pipelines", {}).items():
        rows.append((f"Input ({results['data']['source']}): {LABELS[key]}", f"{fmt(rate)} images/s"))
    for key, rate in results.get("pipelines_photos", {}).items():
        rows.append((f"Input (photos): {LABELS[key]}", f"{fmt(rate)} images/s"))
    run = results.get("fits_run")
    for nb, cell in results.get("optional_cell", {}).items():
        rows.append((f"Notebook {nb}'s fit, the book's call / after the optional cell ({fits_setting(run)})",
                     ratio_text(cell, "cell")))
    for nb, fit in ((results.get("precision") or {}).get("end_to_end") or {}).items():
        rows.append((f"Notebook {nb}'s fit, float32 / mixed_bfloat16 ({fits_setting(run)})",
                     ratio_text(fit, "bfloat16")))
    if "difficulty" in results:
        diff = results["difficulty"]
        rows.append((f"Difficulty: logistic regression on {diff['logistic']['pixels']} pixels",
                     f"validation accuracy {diff['logistic']['validation']:.3f} "
                     f"(train {diff['logistic']['train']:.3f})"))
        conv = diff["convnet"]
        rows.append((f"Difficulty: baseline convnet after {conv['epochs']} epochs",
                     f"validation accuracy {conv['val_accuracy'][-1]:.3f} (per epoch: "
                     f"{', '.join(f'{v:.2f}' for v in conv['val_accuracy'])})"))
    lines = ["| Figure | Measured |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows]
    d = results.get("settings", {}).get(DEFAULT_SETTING, {})
    if d.get("layers"):
        layers = [row for row in d["layers"] if row["layer"] != "full training step"]
        full = [row["ms_per_batch"] for row in d["layers"] if row["layer"] == "full training step"]
        step_ms = full[0] if full else 20 / d["train_images_per_s"] * 1e3
        lines += ["", f"| Where a training step's time goes (batch 20, {step_ms:.0f} ms per step) "
                      "| GFLOP per image | ms per batch | GFLOP/s | of matmul |", "|---|---|---|---|---|"]
        for row in layers:
            lines.append(f"| {row['layer']} | {row['training_gflop_per_image']:.3f} | {row['ms_per_batch']:.0f} | "
                         f"{row['gflops']:.1f} | {row['gflops'] / d['matmul_gflops']:.2f} |")
        rest = step_ms - sum(row["ms_per_batch"] for row in layers)
        lines.append("| everything else (pooling, loss, optimizer, Keras) | - | "
                     + (f"{rest:.0f}" if full and rest >= 0 else
                        "not resolved: the step and the layers were timed under different load") + " | - | - |")
    lines += ["", "| Speed-up (A/B, alternating) | Before | After | Kept |", "|---|---|---|---|"]
    for ab in results["ab"]:
        lines.append(f"| {LABELS[ab['id']]} | {ab['before']} | {ab['after']} | {ab['kept']} |")
    lines += cell_table(results.get("optional_cell", {}))
    return "\n".join(lines)


def fits_setting(run):
    """How the notebooks' fits were run, in a few words."""
    window = "whole epochs" if run["window"] == 1 else f"epochs of {run['window']:g} of the book's steps"
    return (f"{run['profile']} profile, {run['source']} data, 1 + {run['timed_epochs']} {window}, {run['rounds']} "
            f"rounds; {run['machine']['date']}, load average {run['machine']['load_average_at_start'][1]:.1f} before, "
            f"{run['load_average_at_end'][1]:.1f} after")


def ratio_text(fit, side):
    """Seconds per epoch of both sides, every paired ratio, their min and median."""
    return (f"{fmt(fit['epoch_s']['book'], 1)} / {fmt(fit['epoch_s'][side], 1)} s per epoch; per round "
            f"{', '.join(f'{r:.3f}' for r in fit['ratios'])} (min {fit['min']:.3f}, median {fit['median']:.3f}; "
            f"training part median {fit['training_part_median']:.3f})")


def precision_rows(found):
    """The mixed-precision rows: what oneDNN ran, the steps' ratios per model, the verdict."""
    if not found:
        return []
    kernels = found["onednn"]
    rows = [("oneDNN for a mixed_bfloat16 step: instruction set; kernels by source precision",
             f"{kernels['isa'] or 'not reported'}; "
             + (", ".join(f"{k} {n}" for k, n in sorted(kernels["kernels"].items())) or "none"))]
    for nb, step in found["steps"].items():
        rows.append((f"Notebook {nb}'s model, float32 / mixed_bfloat16 step (in memory, "
                     f"{len(step['train_ratios'])} rounds)",
                     f"training per round {', '.join(f'{r:.3f}' for r in step['train_ratios'])} (median "
                     f"{step['train_median']:.3f}); evaluation median {step['eval_median']:.3f}"))
    rows.append(("Mixed precision (bfloat16) on this CPU", found["verdict"]))
    return rows


def cell_table(optional_cell):
    """Every round of the optional cell's A/B: each fit's seconds per timed epoch, the paired ratio, who went first."""
    if not optional_cell:
        return []
    notebooks = list(optional_cell)
    lines = ["", "| The optional cell, round (first side) | "
             + " | ".join(f"{nb}: book, s/epoch | {nb}: cell, s/epoch | {nb}: book / cell" for nb in notebooks) + " |",
             "|---|" + "---|---|---|" * len(notebooks)]
    for r, first in enumerate(row["first"] for row in optional_cell[notebooks[0]]["rounds"]):
        cells = []
        for nb in notebooks:
            fits = optional_cell[nb]["rounds"][r]
            per_epoch = {side: sum(fits[side]["epochs_s"][1:]) / (len(fits[side]["epochs_s"]) - 1)
                         for side in ("book", "cell")}
            cells.append(f"{per_epoch['book']:.1f} | {per_epoch['cell']:.1f} | {optional_cell[nb]['ratios'][r]:.3f}")
        lines.append(f"| {r + 1} ({first}) | " + " | ".join(cells) + " |")
    summary = " | ".join(f"- | - | min {optional_cell[nb]['min']:.3f}, median {optional_cell[nb]['median']:.3f}"
                         for nb in notebooks)
    lines.append(f"| all rounds | {summary} |")
    return lines


def ab_rows(settings):
    """Before/after rows for every speed-up tried, with the decision each measurement supports."""
    off, on, inter = settings["onednn_off"], settings[DEFAULT_SETTING], settings["onednn_on_interop1"]
    rows = []

    def row(key, before, after, unit, kept, digits=1):
        rows.append({"id": key, "name": LABELS[key], "before": f"{fmt(before, digits)} {unit}",
                     "after": f"{fmt(after, digits)} {unit}",
                     "kept": kept, "before_value": before, "after_value": after})

    row("onednn_training", off["train_images_per_s"], on["train_images_per_s"],
        "img/s", "yes (course default)")
    row("onednn_inference", off["inference_images_per_s"], on["inference_images_per_s"], "img/s",
        "yes (course default)")
    gain = inter["train_images_per_s"] / on["train_images_per_s"] - 1
    row("interop1", on["train_images_per_s"],
        inter["train_images_per_s"], "img/s", "no: within noise" if abs(gain) < 0.05 else
        ("worth trying" if gain > 0 else "no: slower"))
    gain = on["xla_on_images_per_s"] / on["xla_off_images_per_s"] - 1
    row("xla", on["xla_off_images_per_s"], on["xla_on_images_per_s"], "img/s",
        "no: slower" if gain < -0.05 else ("no: within noise" if gain < 0.05 else "worth trying"))
    gain = on["eval_batch100_images_per_s"] / on["eval_batch20_images_per_s"] - 1
    row("eval_batch100", on["eval_batch20_images_per_s"], on["eval_batch100_images_per_s"],
        "img/s", "no: within noise" if abs(gain) < 0.05 else ("worth trying" if gain > 0 else "no: slower"))
    return rows


def cell_rows(optional_cell):
    """Before/after rows of the optional cell's A/B, one per notebook."""
    return [{"id": f"cell_{nb}", "name": LABELS[f"cell_{nb}"],
             "before": f"{fmt(cell['epoch_s']['book'], 1)} s/epoch",
             "after": f"{fmt(cell['epoch_s']['cell'], 1)} s/epoch",
             "kept": f"optional cell; {cell['kept']} (paired ratios: min {cell['min']:.3f}, median "
                     f"{cell['median']:.3f})",
             "before_value": cell["epoch_s"]["book"], "after_value": cell["epoch_s"]["cell"]}
            for nb, cell in optional_cell.items()]


def write_readme_table(markdown):
    """Replace the results block of benchmarks/README.md with the new table."""
    text = README.read_text(encoding="utf-8")
    if TABLE_START not in text or TABLE_END not in text:
        raise SystemExit(f"{README} has no {TABLE_START} ... {TABLE_END} block to fill")
    head, rest = text.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    write_text_atomic(README, f"{head}{TABLE_START}\n{markdown}\n{TABLE_END}{tail}")
