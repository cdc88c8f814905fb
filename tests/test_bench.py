"""The benchmark's arithmetic, tables and record parsing (nothing is timed here)."""
import json
import statistics
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import bench, compute, fits, precision, record_run, report
from helpers import speed

BENCHMARKS = Path(bench.__file__).resolve().parent


def settings():
    """Settings as a run records them (ids), with hand-picked rates."""
    def setting(train, infer=50.0, **extra):
        return {"train_images_per_s": train, "inference_images_per_s": infer, **extra}

    return {"onednn_off": setting(15.0, 60.0),
            compute.DEFAULT_SETTING: setting(30.0, 120.0, xla_off_images_per_s=30.0, xla_on_images_per_s=20.0,
                                             eval_batch20_images_per_s=120.0, eval_batch100_images_per_s=121.0),
            "onednn_on_interop1": setting(29.5)}


def test_ab_rows_keep_only_clear_wins():
    rows = {r["id"]: r for r in report.ab_rows(settings())}
    assert rows["onednn_training"]["after_value"] == 30.0
    assert rows["onednn_training"]["name"] == "oneDNN kernels (TF_ENABLE_ONEDNN_OPTS=1), training"
    assert rows["interop1"]["kept"] == "no: within noise"
    assert rows["xla"]["kept"] == "no: slower"
    assert rows["eval_batch100"]["kept"] == "no: within noise"


def fit(first, later):
    """One fit's record: a warm-up epoch, then the timed ones (training part: 80% of each)."""
    epochs = [first, *later]
    return {"epochs_s": epochs, "train_s": [0.8 * t for t in epochs]}


def test_the_optional_cells_rounds_are_paired_and_summarised():
    rounds = [{"first": "book", "book": fit(90, [40, 44]), "cell": fit(80, [30, 30])},
              {"first": "cell", "book": fit(90, [42, 42]), "cell": fit(85, [40, 40])},
              {"first": "book", "book": fit(99, [50, 30]), "cell": fit(70, [38, 38])}]
    cell = fits.summary(rounds)
    assert cell["ratios"] == [1.4, 1.05, pytest.approx(80 / 76, abs=1e-4)]
    assert cell["min"] == 1.05 and cell["median"] == pytest.approx(80 / 76, abs=1e-4)
    assert cell["training_part_ratios"] == cell["ratios"]  # the same share of each epoch here
    assert cell["epoch_s"] == {"book": 42.0, "cell": 38.0}  # medians of each fit's mean timed epoch
    assert cell["kept"] == "gain of at least 5% in every round" and cell["rounds"] is rounds
    assert fits.verdict([1.2, 1.06, 0.99]) == "gain of 5% or more in the median, not in every round"
    assert fits.verdict([1.03, 0.98, 1.01]) == "below 5%"
    assert fits.verdict([0.9, 0.94, 0.92]) == "slower in every round"
    assert fits.verdict([0.9, 0.75, 1.27]) == "no gain: slower in the median"
    row = report.cell_rows({"06": cell})[0]
    assert row["id"] == "cell_06" and row["before"] == "42.0 s/epoch" and row["after"] == "38.0 s/epoch"


def test_every_id_has_a_label():
    rows = report.ab_rows(settings()) + report.cell_rows({nb: {"epoch_s": {"book": 1, "cell": 1}, "kept": "",
                                                              "min": 1, "median": 1} for nb in ("04", "06")})
    assert set(compute.PROCESS_SETTINGS) <= set(report.LABELS)
    assert {r["id"] for r in rows} <= set(report.LABELS)


def test_the_recorded_results_render_and_survive_a_new_label(monkeypatch):
    results = bench.read_results(bench.RESULTS)
    table = report.table(results)
    assert f"| {report.LABELS['cell_04']} |" in table
    assert "decode" not in table.lower()  # the decode-once rows are history, in benchmarks/README.md's prose
    monkeypatch.setitem(report.LABELS, "cell_04", "Notebook 04's optional cell, renamed")
    assert "| Notebook 04's optional cell, renamed |" in report.table(results)


def test_the_default_bench_recorded_every_ratio_in_three_rounds_within_twenty_minutes():
    results = bench.read_results(bench.RESULTS)
    assert not results["quick"] and not results["long"] and results["bench_seconds"] <= 20 * 60
    assert len(results["rates"]["train_fraction_rounds"]) >= 3
    for step in results["precision"]["steps"].values():
        assert len(step["train_ratios"]) >= 3 and step["train_min"] == min(step["train_ratios"])
    run = results["fits_run"]
    assert run["rounds"] >= 3 and run["profile"] == "full"
    for notebook in ("04", "06"):
        cell = results["optional_cell"][notebook]
        assert len(cell["ratios"]) == run["rounds"] == len(cell["rounds"])
        assert cell["min"] == min(cell["ratios"]) and cell["median"] == statistics.median(cell["ratios"])
        assert [r["first"] for r in cell["rounds"][:2]] == run["sides"][:2]  # rotating


def test_an_old_results_file_is_refused_in_one_line(tmp_path):
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"format": 3, "ab": []}))
    with pytest.raises(SystemExit, match="results format 3, not 4"):
        bench.read_results(old)


def test_sides_take_turns_going_first():
    assert [fits.rotated(("book", "cell"), r) for r in range(3)] == [
        ("book", "cell"), ("cell", "book"), ("book", "cell")]
    assert [fits.rotated(("book", "cell", "bfloat16"), r)[0] for r in range(3)] == ["book", "cell", "bfloat16"]
    assert fits.window_steps(100, 0.2) == 20 and fits.window_steps(32, 0.2) == 6 and fits.window_steps(3, 0.1) == 1


def step_row(first, f32_train, bf16_train, f32_eval=1.0, bf16_eval=1.0):
    return {"first": first, "float32": {"train_s": f32_train, "eval_s": f32_eval},
            "mixed_bfloat16": {"train_s": bf16_train, "eval_s": bf16_eval}}


def test_mixed_precision_steps_are_paired_and_judged():
    slow = precision.summarise([step_row("float32", 1.0, 10.0), step_row("mixed_bfloat16", 1.2, 12.0, 0.5, 2.0),
                                step_row("float32", 1.1, 9.0)])
    assert slow["train_ratios"] == [0.1, 0.1, round(1.1 / 9.0, 4)] and slow["eval_ratios"] == [1.0, 0.25, 1.0]
    assert slow["train_min"] == 0.1 and slow["train_median"] == 0.1
    assert not precision.worth_a_fit({"04": slow})
    assert precision.verdict({"04": slow}).startswith("slower: float32 / bfloat16 training step at most 0.100 (median)")
    fast = precision.summarise([step_row("float32", 1.0, 0.6), step_row("mixed_bfloat16", 1.0, 0.7)])
    assert precision.worth_a_fit({"04": fast, "06": fast}) and not precision.worth_a_fit({"04": fast, "06": slow})
    end_to_end = {"06": {"ratios": [1.5, 1.29]}}
    assert precision.verdict({"06": fast}, end_to_end) == "below 1.3x end to end in some round (min 1.290): left out"


def test_onednn_log_gives_the_instruction_set_and_the_kernels_precision():
    log = "\n".join([
        "onednn_verbose,v1,info,cpu,isa:Intel AVX2",
        "onednn_verbose,v1,primitive,info,template:operation,engine,primitive,implementation",
        "onednn_verbose,v1,primitive,exec,cpu,inner_product,x64:gemm:jit,forward_training,src:f32::blocked:ab::f0 "
        "wei:f32::blocked:ba::f0,attr-scratchpad:user,,mb8ic7200oc1,0.05",
        "onednn_verbose,v1,primitive,exec,cpu,gemm_api,,undef,src_f32::blocked:ba:f0 wei_f32::blocked:ab:f0,,,"
        "7200x8:8x1,0.01",
        "onednn_verbose,v1,primitive,exec,cpu,convolution,brg_conv_fwd:avx512_core_amx_bf16,forward_training,"
        "src:bf16::blocked:acdb::f0 wei:bf16:a:blocked:Adcb16a::f0,,,mb4_ic3oc8,0.2",
        "2026-12-07 12:00:00 unrelated TensorFlow line"])
    assert precision.parse_onednn_log(log) == {"isa": "Intel AVX2", "kernels": {"f32": 2, "bf16": 1}}
    assert precision.parse_onednn_log("nothing from oneDNN") == {"isa": None, "kernels": {}}


def test_no_benchmark_module_is_over_400_lines():
    sizes = {path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in BENCHMARKS.glob("*.py")}
    assert sizes and max(sizes.values()) <= 400, sizes


def test_recorded_estimates_are_within_the_tolerance():
    runs = json.loads(record_run.RUNS.read_text(encoding="utf-8"))
    errors = {r["id"]: r["estimate_error"] for r in runs if r.get("estimate_error") is not None}
    assert errors and all(abs(e) <= record_run.ESTIMATE_TOLERANCE for e in errors.values()), errors


MESSAGE = speed.estimate_message({"epochs": 2, "epoch_s": 50, "total_s": 100, "remaining_s": 0}, profile="full")


def test_record_parses_what_the_notebook_prints(tmp_path):
    message = speed.estimate_message({"epochs": 30, "epoch_s": 58.3, "total_s": 1750, "remaining_s": 1600},
                                     profile="full")
    update = speed.estimate_message({"epochs": 30, "epoch_s": 40, "total_s": 1250, "remaining_s": 900},
                                    profile="full", update=True)
    assert record_run.estimate_line(message) == {"minutes": 30, "s_per_epoch": 58}
    assert record_run.estimate_line(message + "\n" + update) == {"minutes": 20, "s_per_epoch": 40}  # the last
    short = speed.estimate_message({"epochs": 3, "epoch_s": 9, "total_s": 30, "remaining_s": 9}, profile="quick")
    assert record_run.estimate_line(short) == {"minutes": 0.5, "s_per_epoch": 9}
    bar = "epochs: 100%|##########| 30/30 [31:07<00:00, 62.25s/epoch, loss=0.041]"
    assert record_run.fit_seconds("epochs:  97%| 29/30 [30:01<01:02]\n" + bar) == 31 * 60 + 7
    assert record_run.fit_seconds("epochs: 100%| 100/100 [1:02:03<00:00]") == 3723
    assert record_run.fit_seconds("30/30\u2007[16:21&lt;00:00,\u200736.48s/epoch") == 981  # a widget's state
    assert record_run.fit_seconds("29/30 [16:21<00:30]") is None  # unfinished
    keras_bar = ("\x1b[1m63/63\x1b[0m \x1b[32m━━━━\x1b[0m \x1b[1m25s\x1b[0m 397ms/step - loss: 0.4 - val_loss: 0.46\n"
                 "\r63/63 ━━━━ 0s 349ms/step - loss: 0.4\r63/63 ━━━━ 31s 400ms/step - loss: 0.4 - val_loss: 0.5\n")
    assert record_run.fit_seconds(keras_bar) == 56
    log = tmp_path / "run.log"
    log.write_text("start 1000\n[NbConvertApp] Executing\nend 2860\n")
    assert record_run.log_times(log) == 1860


def test_record_reads_a_saved_run(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    history = {"accuracy": [0.5, 0.6], "loss": [0.7, 0.6], "val_accuracy": [0.55, 0.62], "val_loss": [0.69, 0.66]}
    (models / "cats_and_dogs_small_1.history.json").write_text(json.dumps(
        {"run": 1, "history": history, "epochs": 2, "profile": "full", "source": "kaggle", "batch_size": 20,
         "test": {"accuracy": 0.61, "loss": 0.67, "images": 1000},
         "estimate": {"total_s": 100.0, "epoch_s": 50.0, "after_epoch": 2},
         "test_last_epoch": {"accuracy": 0.6, "loss": 0.68}}))
    bar = "\x1b[1m10/10\x1b[0m ━━━━ \x1b[1m40s\x1b[0m 4s/step - loss: 0.4 - val_loss: 0.46\n"
    other = "\x1b[1m10/10\x1b[0m ━━━━ \x1b[1m30s\x1b[0m 3s/step - loss: 0.5 - val_loss: 0.5\n"
    nb = {"cells": [{"cell_type": "code", "source": "history = model.fit(x)", "outputs": [
        {"output_type": "stream", "name": "stdout", "text": [
            bar, MESSAGE, bar]}]},
        # a later fit of another model (notebook 08 times notebook 06's): not this run's fit
        {"cell_type": "code", "source": "model_06.fit(y)", "outputs": [
            {"output_type": "stream", "name": "stdout", "text": [other]}]}]}
    (tmp_path / "run.ipynb").write_text(json.dumps(nb))
    entry = record_run.record(tmp_path / "run.ipynb", models, 1)
    assert entry["val_accuracy"] == [0.55, 0.62] and entry["best_epoch"] == 2 and entry["min_val_loss_epoch"] == 2
    assert entry["test"]["accuracy"] == 0.61 and entry["source"] == "kaggle"
    assert entry["test_last_epoch"]["accuracy"] == 0.6  # a run that also tested a checkpoint (notebook 08)
    assert entry["estimate_printed"] == {"minutes": 2, "s_per_epoch": 50}
    # the estimate the notebook saved (100 s) against the fit's two 40 s epochs: 25% too long, and said so
    assert entry["fit_seconds"] == 80 and entry["estimate_seconds"] == 100.0 and entry["estimate_error"] == 0.25
    assert entry["estimate_after_epoch"] == 2


def test_record_refuses_a_notebook_without_its_fit_in_one_line(tmp_path, capsys):
    history = {key: [0.5] for key in ("accuracy", "loss", "val_accuracy", "val_loss")}
    (tmp_path / "cats_and_dogs_small_8.history.json").write_text(json.dumps({"run": 8, "history": history}))
    (tmp_path / "run.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "source": "print(1)",
                                                               "outputs": []}]}))
    before = record_run.RUNS.read_text(encoding="utf-8")
    assert record_run.main(["--notebook", str(tmp_path / "run.ipynb"), "--models-dir", str(tmp_path),
                            "--run", "8"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "history = model.fit(" in err
    assert record_run.RUNS.read_text(encoding="utf-8") == before


@pytest.mark.parametrize("notebook", ["04", "06"])
def test_reference_run_saves_the_estimate_it_printed_and_the_record_sets_it_against_the_fit(
        notebook, tiny_split, tmp_path, capsys):
    from benchmarks import reference_runs

    out = tmp_path / "out"
    assert reference_runs.main(["--notebook", notebook, "--data", str(tiny_split), "--source", "tiny",
                                "--out", str(out), "--epochs", "3", "--steps", "1", "--workers", "2"]) == 0
    printed = capsys.readouterr().out
    result = json.loads((out / f"nb{notebook}-seed1337.json").read_text())
    estimate = result["estimate"]
    assert estimate["epochs"] == 3 and estimate["after_epoch"] == 2  # printed after the second epoch
    assert "This fit (3 epochs, full profile) takes about" in printed
    entry = record_run.from_reference(result, "2026-01-01")
    assert entry["estimate_seconds"] == round(estimate["total_s"], 1)
    assert entry["estimate_error"] == round(estimate["total_s"] / result["fit_seconds"] - 1, 3)


def test_reference_figures_read_a_saved_model_or_its_weights(tmp_path):
    """Notebook 07's figure script takes notebook 06's .keras file or an np.savez of its weights; else one line."""
    import keras
    import numpy as np

    from benchmarks import reference_figures_07 as figures

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(1)])
    model.save(tmp_path / "model.keras")
    np.savez(tmp_path / "weights.npz", *model.get_weights())
    for path in (tmp_path / "model.keras", tmp_path / "weights.npz"):
        read = figures.saved_weights(path)
        assert [w.shape for w in read] == [(4, 3), (3,), (3, 1), (1,)]
        assert all(np.array_equal(a, b) for a, b in zip(read, model.get_weights()))
    (tmp_path / "broken.npz").write_bytes(b"not a zip")
    with pytest.raises(SystemExit) as stop:
        figures.saved_weights(tmp_path / "broken.npz")
    assert "broken.npz: not a saved model nor an np.savez file" in str(stop.value)
