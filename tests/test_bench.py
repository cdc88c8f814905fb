"""The benchmark's arithmetic and record parsing (nothing is timed here)."""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import bench, record_run  # noqa: E402
from helpers import speed  # noqa: E402


def test_epoch_estimates_from_end_to_end_rates():
    e2e = {f"{nb}_{mode}": {"train_s_per_image": t, "val_s_per_image": v}
           for nb, mode, t, v in [("04", "plain", 0.03, 0.01), ("04", "decoded_once", 0.02, 0.005),
                                  ("06", "plain", 0.04, 0.01), ("06", "decoded_once", 0.03, 0.005)]}
    est = bench.epoch_estimates(e2e, decode_s_per_image=0.002, profile="full")
    # Full profile: 2,000 training and 1,000 validation images per epoch; 30 and 100 epochs.
    assert est["04_plain"] == {"epoch_s": pytest.approx(70.0), "epochs": 30, "run_min": pytest.approx(35.0)}
    assert est["04_decoded_once"]["epoch_s"] == pytest.approx(45.0)
    assert est["04_decoded_once"]["run_min"] == pytest.approx((45.0 * 30 + 3000 * 0.002) / 60)
    assert est["06_plain"]["run_min"] == pytest.approx(90.0 * 100 / 60)


def ab_inputs():
    """Settings and estimates as a run records them (ids), with hand-picked rates."""
    def setting(train, infer=50.0, **extra):
        return {"train_images_per_s": train, "inference_images_per_s": infer, **extra}

    settings = {"onednn_off": setting(15.0, 60.0),
                bench.DEFAULT_SETTING: setting(30.0, 120.0, xla_off_images_per_s=30.0, xla_on_images_per_s=20.0,
                                               eval_batch20_images_per_s=120.0, eval_batch100_images_per_s=121.0),
                "onednn_on_interop1": setting(29.5)}
    estimates = {"04_plain": {"epoch_s": 60.0}, "04_decoded_once": {"epoch_s": 50.0},
                 "06_plain": {"epoch_s": 60.0}, "06_decoded_once": {"epoch_s": 60.5}}
    return settings, estimates


def test_ab_rows_keep_only_clear_wins():
    rows = {r["id"]: r for r in bench.ab_rows(*ab_inputs())}
    assert rows["onednn_training"]["after_value"] == 30.0
    assert rows["onednn_training"]["name"] == "oneDNN kernels (TF_ENABLE_ONEDNN_OPTS=1), training"
    assert rows["interop1"]["kept"] == "no: within noise"
    assert rows["xla"]["kept"] == "no: slower"
    assert rows["eval_batch100"]["kept"] == "no: within noise"
    epoch04 = rows["decode_once_04"]
    assert (epoch04["before_value"], epoch04["after_value"]) == (60.0, 50.0)
    assert epoch04["kept"] == "yes (a line in notebooks 04 and 06)"
    assert rows["decode_once_06"]["kept"] == "yes: same batches, not slower (within noise)"


def test_every_id_has_a_label_and_old_labels_map_to_ids():
    assert set(bench.PROCESS_SETTINGS) <= set(bench.LABELS)
    assert set(bench.OLD_KEYS.values()) <= set(bench.LABELS)
    assert {r["id"] for r in bench.ab_rows(*ab_inputs())} <= set(bench.LABELS)


def test_old_results_files_read_as_ids():
    old = {"settings": {"oneDNN on (course default)": {"train_images_per_s": 1.0}},
           "pipelines": {"flow_from_directory, rescale only": 5.0, "tf.data + preprocessing layers, augmented": 6.0},
           "end_to_end": {"06 augmented, decoded once": {"train_s_per_image": 0.1}},
           "estimates": {"04, plain": {"epoch_s": 1.0}},
           "ab": [{"name": "XLA jit_compile=True (training)", "before": "1 img/s"}]}
    new = bench.upgrade(old)
    assert new["format"] == bench.RESULTS_FORMAT
    assert new["settings"] == {"onednn_on": {"train_images_per_s": 1.0}}
    assert new["pipelines"] == {"flow_rescale": 5.0, "tfdata_augmented": 6.0}
    assert list(new["end_to_end"]) == ["06_decoded_once"] and list(new["estimates"]) == ["04_plain"]
    assert new["ab"][0]["id"] == "xla"
    assert bench.upgrade(new) is new  # current files pass unchanged


def test_the_recorded_results_render_and_survive_a_new_label(monkeypatch):
    assert json.loads(bench.RESULTS.read_text(encoding="utf-8"))["format"] == bench.RESULTS_FORMAT  # converted
    results = bench.read_results(bench.RESULTS)
    table = bench.table(results)
    assert "| Input (synthetic): flow_from_directory, rescale only |" in table
    monkeypatch.setitem(bench.LABELS, "flow_rescale", "flow_from_directory, rescaled")
    monkeypatch.setitem(bench.LABELS, "xla", "XLA (jit_compile=True), training")
    table = bench.table(results)
    assert "| Input (synthetic): flow_from_directory, rescaled |" in table
    assert "| XLA (jit_compile=True), training |" in table


def test_record_parses_what_the_notebook_prints(tmp_path):
    message = speed.minutes_message({"total_s": 1750, "epoch_s": 58.3, "epochs": 30}, profile="full")
    assert record_run.estimate_line(message) == {"minutes": 30, "s_per_epoch": 58}
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
         "test": {"accuracy": 0.61, "loss": 0.67, "images": 1000}, "estimate": {"total_s": 100.0, "epoch_s": 50.0},
         "test_last_epoch": {"accuracy": 0.6, "loss": 0.68}}))
    bar = "\x1b[1m10/10\x1b[0m ━━━━ \x1b[1m40s\x1b[0m 4s/step - loss: 0.4 - val_loss: 0.46\n"
    other = "\x1b[1m10/10\x1b[0m ━━━━ \x1b[1m30s\x1b[0m 3s/step - loss: 0.5 - val_loss: 0.5\n"
    nb = {"cells": [{"cell_type": "code", "source": "history = model.fit(x)", "outputs": [
        {"output_type": "stream", "name": "stdout", "text": [
            speed.minutes_message({"total_s": 100, "epoch_s": 50, "epochs": 2}, profile="full"), bar, bar]}]},
        # a later fit of another model (notebook 08 times notebook 06's): not this run's fit
        {"cell_type": "code", "source": "model_06.fit(y)", "outputs": [
            {"output_type": "stream", "name": "stdout", "text": [other]}]}]}
    (tmp_path / "run.ipynb").write_text(json.dumps(nb))
    entry = record_run.record(tmp_path / "run.ipynb", models, 1)
    assert entry["val_accuracy"] == [0.55, 0.62] and entry["best_epoch"] == 2 and entry["min_val_loss_epoch"] == 2
    assert entry["test"]["accuracy"] == 0.61 and entry["source"] == "kaggle"
    assert entry["test_last_epoch"]["accuracy"] == 0.6  # a run that also tested a checkpoint (notebook 08)
    assert entry["estimate_printed"] == {"minutes": 2, "s_per_epoch": 50}
    # the estimate the notebook saved (100 s) against the fit's two 40 s epochs: 25% too long
    assert entry["fit_seconds"] == 80 and entry["estimate_seconds"] == 100.0 and entry["estimate_error"] == 0.25


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
                                "--out", str(out), "--epochs", "1", "--steps", "1", "--workers", "2"]) == 0
    printed = capsys.readouterr().out
    result = json.loads((out / f"nb{notebook}-seed1337.json").read_text())
    estimate = result["estimate"]
    assert estimate["epochs"] == 1 and estimate["train_batches"] == 1  # the run's own schedule
    assert estimate["eval_batches"] == 1  # the whole validation split: 8 pictures
    assert f"estimate before the fit: {estimate['total_s']:.0f} s (1 epochs" in printed
    entry = record_run.from_reference(result, "2026-01-01")
    assert entry["estimate_seconds"] == round(estimate["total_s"], 1)
    assert entry["estimate_error"] == round(estimate["total_s"] / result["fit_seconds"] - 1, 3)
