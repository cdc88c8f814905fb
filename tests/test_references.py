"""Reference runs: which records count for a notebook and data set, and the sentence a learner reads."""
import json
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers import plots, references

REQUIRED = ("notebook", "profile", "source", "seed", "epochs", "batch_size", "steps_per_epoch", "accuracy",
            "val_accuracy", "loss", "val_loss", "test", "fit_seconds", "machine", "versions", "id", "date")
# Notebook 01 fits as listing 5.3 does, without validation data, and trains two models: its records say which.
NO_VALIDATION = {"01": ("val_accuracy", "val_loss")}


def record(notebook, source, final_val, test, epochs=3, steps=100, profile="full", seed=1):
    """A made-up runs.json record whose validation accuracy climbs to final_val."""
    val = list(np.linspace(0.5, final_val, epochs))
    return {"notebook": f"{notebook}_x.ipynb", "profile": profile, "source": source, "seed": seed,
            "steps_per_epoch": steps, "epochs": epochs, "val_accuracy": val, "accuracy": val,
            "loss": [0.7] * epochs, "val_loss": [0.7] * epochs, "test": {"accuracy": test},
            "machine": "CPU, 2 cores", "date": "2026-01-01"}


@pytest.fixture
def runs_file(tmp_path, monkeypatch):
    path = tmp_path / "runs.json"
    monkeypatch.setattr(references, "runs_file", lambda: path)
    return path


def test_only_full_runs_at_the_books_schedule_on_that_kind_of_data_count(runs_file):
    runs = [record("04", "kaggle", 0.70, 0.68), record("04", "microsoft", 0.76, 0.73, seed=2),
            record("04", "kaggle", 0.51, 0.50, profile="quick"), record("04", "synthetic", 0.69, 0.68),
            record("06", "kaggle", 0.78, 0.78, steps=63), record("06", "kaggle", 0.83, 0.83)]
    runs_file.write_text(json.dumps(runs))
    assert [r["seed"] for r in references.reference_runs("04", "kaggle")] == [1, 2]  # both real-photo archives
    assert len(references.reference_runs("04", "synthetic")) == 1
    assert [r["val_accuracy"][-1] for r in references.reference_runs("06", "kaggle")] == [pytest.approx(0.83)]


def test_expected_line_gives_the_range_and_the_books_figure(runs_file):
    runs_file.write_text(json.dumps([record("04", "kaggle", 0.717, 0.684), record("04", "kaggle", 0.768, 0.729),
                                     record("04", "kaggle", 0.756, 0.729)]))
    line = references.expected_line("04", "kaggle")
    assert line == ("3 full runs on the real photos ended at 0.72-0.77 validation accuracy and 0.68-0.73 test "
                    "accuracy (the book: 0.72, real photos).")
    assert references.expected_line("06", "synthetic").startswith("No full run of notebook 06 on the synthetic set")


def test_missing_runs_file_means_no_reference(runs_file):
    assert references.load_runs() == [] and references.reference_runs("04", "kaggle") == []


def test_recorded_runs_have_every_field_and_unique_ids():
    runs = references.load_runs()
    assert runs, "benchmarks/runs.json holds the reference runs"
    for run in runs:
        exempt = NO_VALIDATION.get(run.get("notebook", "")[:2], ())
        missing = [key for key in REQUIRED if key not in run and key not in exempt]
        assert not missing, f"{run.get('id')}: missing {missing}"
        assert len(run.get("val_accuracy", run["accuracy"])) == len(run["accuracy"]) == run["epochs"]
        if exempt:
            assert run.get("model") in ("convnet", "dense"), f"{run.get('id')}: which model?"
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", run["date"])
    assert len({r["id"] for r in runs}) == len(runs)


def test_reference_figure_draws_the_runs_spread_and_a_shorter_run_beside_them():
    runs = [record("04", "kaggle", 0.7, 0.7, epochs=5), record("04", "kaggle", 0.8, 0.7, epochs=5)]
    fig = plots.plot_reference_runs(runs, "t", mine={"accuracy": [0.5, 0.52], "val_accuracy": [0.5, 0.49],
                                                     "loss": [0.7, 0.69], "val_loss": [0.7, 0.71]}, book=0.724)
    acc = fig.axes[0]
    assert len(fig.axes) == 4  # 2 epochs against 5: the learner's run gets its own panels
    mean = np.mean([runs[0]["val_accuracy"], runs[1]["val_accuracy"]], axis=0)
    assert any(np.allclose(line.get_ydata(), mean) for line in acc.lines)
    assert acc.collections, "the min-max band across seeds"
    assert acc.get_ylim() == pytest.approx((0.48, 1.0))  # from 0.5 (less the margin) to 1.0
    assert [line.get_ydata()[0] for line in acc.lines if line.get_linestyle() == ":"] == [0.724]
    plt.close(fig)
    same = plots.plot_reference_runs(runs, "t", mine=runs[0])
    assert len(same.axes) == 2  # as many epochs: drawn on the reference axes
    plt.close(same)


def test_readme_reference_table_is_the_one_runs_json_gives():
    readme = (references.repo_root() / "README.md").read_text(encoding="utf-8")
    assert references.reference_table() in readme, "refresh the README's results table from benchmarks/runs.json"


def test_fit_time_line_names_each_machine_its_times_and_dates(runs_file):
    def timed(seconds, machine, seed, date="2026-11-30"):
        return {**record("04", "kaggle", 0.75, 0.72, seed=seed), "fit_seconds": seconds, "machine": machine,
                "date": date}

    assert references.fit_time_line("04", "kaggle") is None  # no runs.json: nothing to say
    gpu, cpu = "NVIDIA H200 GPU, 16 cores", "AMD EPYC, 2 cores (CPU only)"
    runs_file.write_text(json.dumps([timed(37.1, gpu, 1), timed(36.6, gpu, 2), timed(783, cpu, 1337),
                                     {**timed(50, cpu, 3), "profile": "quick"}]))  # a quick run is no reference
    line = references.fit_time_line("04", "kaggle")
    assert line == ("Recorded full runs of notebook 04 on the real photos: model.fit took 37 s on NVIDIA H200 GPU, "
                    "16 cores, 2 runs, 2026-11-30; 13 min on AMD EPYC, 2 cores (CPU only), 2026-11-30.")
    assert references.fit_time_line("04", "synthetic") is None and references.fit_time_line("06", "kaggle") is None
    assert [references.duration(s) for s in (37.1, 783, 3435, 6200)] == ["37 s", "13 min", "57 min", "1 h 43 min"]


def test_korean_expected_and_fit_time_lines_but_an_english_readme_table(runs_file, monkeypatch):
    runs_file.write_text(json.dumps([{**record("04", "kaggle", 0.717, 0.684), "fit_seconds": 783},
                                     {**record("04", "kaggle", 0.768, 0.729), "fit_seconds": 790, "seed": 2}]))
    english = (references.expected_line("04", "kaggle"), references.fit_time_line("04", "kaggle"),
               references.reference_table())
    monkeypatch.setenv("COURSE_LANG", "ko")
    expected, fit_time = references.expected_line("04", "kaggle"), references.fit_time_line("04", "kaggle")
    assert re.search("[가-힣]", expected) and "0.72-0.77" in expected and "0.68-0.73" in expected, expected
    assert re.search("[가-힣]", fit_time) and "13분" in fit_time and "CPU, 2 cores" in fit_time, fit_time
    assert references.reference_table() == english[2]  # the README's table is English in both editions
    assert references.source_name("kaggle") == "the real photos"  # and so is the name notebooks put in titles
    monkeypatch.setenv("COURSE_LANG", "en")
    assert english[:2] == (references.expected_line("04", "kaggle"), references.fit_time_line("04", "kaggle"))
    assert english[0] == ("2 full runs on the real photos ended at 0.72-0.77 validation accuracy and 0.68-0.73 test "
                          "accuracy (the book: 0.72, real photos).")
