"""The timers and tables behind notebook 08's comparison and the benchmark."""
import json

import numpy as np
import pytest

from helpers import measure


def test_code_lines_skip_blank_and_comment_lines():
    assert measure.code_lines("# pipeline: data\nx = 1\n\n   # note\ny = x  # inline\n") == 2


def test_notebook_code_lines_counts_only_marked_cells(tmp_path):
    nb = {"cells": [{"cell_type": "code", "source": ["# pipeline: a\n", "a = 1\n", "b = 2"]},
                    {"cell_type": "code", "source": "c = 3\nd = 4"},
                    {"cell_type": "markdown", "source": "# pipeline: not code"},
                    {"cell_type": "code", "source": "model.fit(x)\n\n"}]}
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(nb))
    assert measure.notebook_code_lines(path, ("# pipeline:",)) == 2
    assert measure.notebook_code_lines(path, ("# pipeline:", "model.fit(")) == 3
    assert measure.notebook_code_lines(tmp_path / "missing.ipynb", ("x",)) is None


def test_faster_or_slower_is_honest_both_ways():
    assert measure.faster_or_slower(200, 100, higher_is_better=True) == "faster (x2.0)"
    assert measure.faster_or_slower(50, 100, higher_is_better=True) == "slower (x2.0)"
    assert measure.faster_or_slower(30.0, 10.0, higher_is_better=False) == "slower (x3.0)"
    assert measure.faster_or_slower(10.2, 10.0, higher_is_better=False) == "about the same"
    assert measure.faster_or_slower(None, 10.0, higher_is_better=False) == "n/a"


def test_images_per_second_counts_every_image():
    batches = [(np.zeros((4, 2)), None), (np.zeros((3, 2)), None)]
    images, rate = measure.images_per_second(iter(batches))
    assert images == 7 and rate > 0
    assert measure.images_per_second(iter(batches), limit=1)[0] == 4


def test_generator_batches_stops_after_one_pass():
    class Finite:
        def __len__(self):
            return 3

        def __getitem__(self, i):
            if i >= 3:
                raise IndexError
            return np.zeros((2, 1)), None

    assert len(list(measure.generator_batches(Finite()))) == 3


def test_steady_seconds_skips_the_first_epoch():
    assert measure.steady_seconds([10.0, 2.0, 4.0]) == pytest.approx(3.0)
    assert measure.steady_seconds([5.0]) == 5.0


def test_epoch_timer_records_one_time_per_epoch_and_its_parts():
    import keras

    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    model.compile(loss="mse", optimizer="sgd")
    timer = measure.epoch_timer()
    x, y = np.zeros((4, 2)), np.zeros((4, 1))
    model.fit(x, y, epochs=3, verbose=0, callbacks=[timer], validation_data=(x, y))
    assert len(timer.seconds) == len(timer.parts) == 3 and all(s > 0 for s in timer.seconds)
    for total, (train, validation) in zip(timer.seconds, timer.parts, strict=True):
        assert train > 0 and validation > 0 and train + validation <= total
    model.fit(x, y, epochs=2, verbose=0, callbacks=[timer])  # a new fit starts new lists
    assert len(timer.seconds) == 2 and [v for _, v in timer.parts] == [0.0, 0.0]


def test_time_calls_is_the_median_after_warmup():
    calls = []
    assert measure.time_calls(lambda: calls.append(1), steps=3, warmup=2) >= 0
    assert len(calls) == 5


def test_table_aligns_columns():
    text = measure.table([["a", "1"], ["bbb", "22"]], ["name", "n"])
    lines = text.splitlines()
    assert lines[0] == "name  n" and set(lines[1]) == {"-"} and lines[3] == "bbb   22"

