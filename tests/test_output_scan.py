"""The output scan of tests/nbval_checked.py: it catches each kind of noise, passes clean outputs, fails nbval cells."""
import os
import sys
from pathlib import Path

import nbformat
import nbval_checked as scan
import pytest

pytest_plugins = ["pytester"]

TESTS = Path(__file__).resolve().parent


def stream(text, name="stdout"):
    return nbformat.v4.new_output("stream", name=name, text=text)


def result(data, kind="execute_result"):
    if kind == "execute_result":
        return nbformat.v4.new_output(kind, data=data, execution_count=1)
    return nbformat.v4.new_output(kind, data=data)


NOISE = {
    "a traceback": stream("Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: no\n", "stderr"),
    "a Python warning": stream("/lib/keras/src/trainers/data_adapters/__init__.py:71: UserWarning: `shuffle=True` "
                               "was passed, but will be ignored\n  warnings.warn(\n", "stderr"),
    "a logged warning or error": stream("WARNING:tensorflow:5 out of the last 5 calls to <function f> triggered "
                                        "tf.function retracing.\n", "stderr"),
    "a TensorFlow log line": stream("E0000 00:00:1795996906.280175    6556 cuda_platform.cc:52] failed call to "
                                    "cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n",
                                    "stderr"),
    "TensorFlow's start-up log": stream("WARNING: All log messages before absl::InitializeLog() is called are "
                                        "written to STDERR\n", "stderr"),
    "a bare object repr": result({"text/plain": "<keras.src.callbacks.history.History at 0x7f3b2c1d9e50>"}),
}


@pytest.mark.parametrize("what", NOISE)
def test_each_kind_of_noise_is_caught(what):
    problems = scan.output_problems([stream("Epoch 1/2\n"), NOISE[what]])
    assert len(problems) >= 1 and any(p.startswith(what) for p in problems), problems


def test_other_noise_is_caught():
    assert scan.output_problems([stream("I0000 00:00:1795996697.453569    3972 port.cc:153] oneDNN custom "
                                        "operations are on.\n", "stderr")])
    assert scan.output_problems([result({"text/plain": "<Figure size 1200x360 with 1 Axes>"})])
    assert scan.output_problems([result({"text/plain": "(<Figure size 640x480 with 1 Axes>, <Axes: >)"})])
    assert scan.output_problems([result({"text/plain": "Text(0.5, 1.0, 'Training and validation loss')"})])
    assert scan.output_problems([result({"text/plain": "[<matplotlib.lines.Line2D at 0x7f00aa>]"})])
    assert scan.output_problems([result({"text/plain": "<__main__.A object at 0x10ab>"}, "display_data")])
    error = nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[])
    assert scan.output_problems([error]) == ["an error: ValueError: bad"]


def test_clean_outputs_pass():
    figure = result({"text/plain": "<Figure size 900x440 with 2 Axes>", "image/png": "iVBORw0KGgo="}, "display_data")
    widget = result({"text/plain": "ConvExplorer(children=(HBox(...),))",
                     "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2}},
                    "display_data")
    progress = stream("\x1b[1m7/7\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m3s\x1b[0m 412ms/step"
                      " - accuracy: 0.5000 - loss: 0.6931\n")
    table = stream("val. accuracy, best epoch   0.612\nwarnings in this text do not start a line: fine\n")
    assert scan.output_problems([figure, widget, progress, table, result({"text/plain": "(20, 150, 150, 3)"})]) == []


def test_the_setup_cell_shows_only_the_banner():
    banner = stream("Profile: quick (tiny data) | data: synthetic | TensorFlow 2.21.0, Keras 3.15.1 | device: CPU\n")
    source = "import helpers\nhelpers.setup_notebook()"
    assert scan.cell_problems(source, [banner]) == []
    assert scan.cell_problems(source, [banner, stream("cloning...\n")])
    assert scan.cell_problems(source, [])
    assert scan.cell_problems(source, [stream("oops\n", "stderr"), banner])
    assert scan.cell_problems(source, [NOISE["TensorFlow's start-up log"], banner])[0].startswith("TensorFlow")
    assert scan.cell_problems("print('two lines')", [stream("a\nb\n")]) == []


def test_nbval_cells_fail_on_noise(pytester, monkeypatch):
    """End to end: nbval runs a notebook; the clean cell passes, each noisy one fails with a named problem."""
    cells = [
        "print('a clean line')",
        "import warnings\nwarnings.warn('watch out')",
        "class Thing:\n    pass\nThing()",
        "import sys\nsys.stderr.write('I0000 00:00:1.5    12 port.cc:153] oneDNN custom operations are on.\\n')",
        "import os, time\nos.write(2, b'E0000 00:00:1.5    12 native.cc:7] written by native code to fd 2\\n')\n"
        "time.sleep(0.5)",  # what TensorFlow's C++ writes: shown only by a kernel started as a learner's
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata.kernelspec = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nbformat.write(nb, pytester.path / "noisy.ipynb")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    run = pytester.run(sys.executable, "-m", "pytest", "-p", "nbval_checked", "-p", "no:cacheprovider",
                       "--nbval-lax", "--nbval-current-env", "-q", "noisy.ipynb")
    text = run.stdout.str()
    assert "1 passed" in text and "4 failed" in text, text
    for expected in ("code cell 1 shows a Python warning", "code cell 2 shows a bare object repr",
                     "code cell 3 shows a TensorFlow log line", "code cell 4 shows a TensorFlow log line"):
        assert expected in text, text


@pytest.mark.parametrize(("text", "contradicted"), [
    ("Your run: validation accuracy 0.710 after 30 epochs (full profile).\n", False),
    ("Your run: validation accuracy 0.510 after 2 epochs (quick profile).\n", True),
    ("validation accuracy 0.51: at chance, the model has not learned yet (quick profile, 2 epochs)\n", False),
    ("validation accuracy 0.71: at chance, the model has not learned yet (full profile, 30 epochs)\n", True),
])
def test_the_at_chance_note_must_agree_with_the_accuracy_printed(text, contradicted):
    """What notebooks 04 and 06 print after their fit: the note appears exactly when the run is at chance."""
    assert bool(scan.cell_problems("print(note)", [stream(text)])) == contradicted
