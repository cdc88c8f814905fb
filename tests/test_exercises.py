"""helpers.exercises: every worked solution passes its checker, typical wrong answers get their own message,
odd answers never raise, and the notebooks' exercise cells and solutions notebooks match the registry."""
import math

import nbformat
import numpy as np
import pytest

import exercise_cells
import test_notebook_hygiene
from helpers import config, exercises, ops
from helpers.exercises import CORRECT, UNANSWERED, UNREADABLE, WRONG, core

IDS = [ex.id for ex in exercises.catalog()]
NOTEBOOKS = list(exercises.MODULES)


@pytest.fixture
def quick_split(tmp_path):
    """A split on disk with the quick profile's folder sizes, for exercise 03.4 (which counts files, not pixels)."""
    root = tmp_path / "data" / config.SMALL_DATASET
    for split, n in config.get_profile("quick").split_sizes().items():
        for cls in config.CLASSES:
            folder = root / split / cls
            folder.mkdir(parents=True)
            for i in range(n):
                (folder / config.kaggle_name(cls, i)).touch()
    return root


def split_for(ex_id, request):
    """Write the quick split when the exercise counts files on disk (03.4); the others need no data."""
    if ex_id == "03.4":
        request.getfixturevalue("quick_split")


def keras_layers():
    """keras.layers, imported only by the tests that build layers."""
    from keras import layers
    return layers


# ------------------------------------------------------------------- typical wrong answers, by exercise

def stride1(image, kernel):
    """A stride-1 convolution: the window moves one cell at a time."""
    return ops.conv2d(image, kernel)[:, :, 0]


def flipped(image, kernel):
    """A textbook convolution: the kernel flipped."""
    return ops.conv2d(image, kernel[::-1, ::-1], stride=2)[:, :, 0]


def same_padded(image, kernel):
    """Stride 2 with 'same' padding."""
    return ops.conv2d(image, kernel, stride=2, padding="same")[:, :, 0]


def no_return(image, kernel):
    """Computes but forgets to return."""
    ops.conv2d(image, kernel, stride=2)


def crashes(image, kernel):
    """Indexes past the end."""
    return image[image.shape[0] + 5, 0] * kernel


def any_zero(activation):
    """Counts channels with some zero, not all zeros."""
    return int((activation <= 0).reshape(-1, activation.shape[-1]).any(axis=0).sum())


def blank_share(activation):
    """The share of blank channels, not their number."""
    return ops.dead_channels(activation) / activation.shape[-1]


def blank_rows(activation):
    """Counts blank rows: the wrong axis."""
    return int((activation.max(axis=(1, 2)) <= 0).sum())


def mnist(dropout_at=None, rate=0.5, input_shape=(28, 28, 1), dense=64):
    """Listing 5.1 with a Dropout inserted before layer index dropout_at (None: no Dropout)."""
    import keras
    layers = keras_layers()
    stack = [layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
             layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
             layers.Conv2D(64, (3, 3), activation="relu"), layers.Flatten(),
             layers.Dense(dense, activation="relu"), layers.Dense(10, activation="softmax")]
    if dropout_at is not None:
        stack.insert(dropout_at, layers.Dropout(rate))
    return keras.Sequential([keras.Input(shape=input_shape)] + stack)


def datagen(**kwargs):
    """An ImageDataGenerator with the described settings, overridden by kwargs."""
    from tensorflow.keras.preprocessing.image import ImageDataGenerator
    settings = dict(rotation_range=20, width_shift_range=0.1, zoom_range=0.1, horizontal_flip=True,
                    fill_mode="constant", rescale=1 / 255)
    return ImageDataGenerator(**{**settings, **kwargs})


PATCH = np.array([[1, 3, 2, 1], [4, 2, 0, 1], [5, 1, 9, 8], [0, 2, 7, 6]])  # the notebook's 4x4 map

# id -> [(answer or a function of no arguments making it, fragment the message must contain)]
WRONG_ANSWERS = {
    "01.1": [((30, 30, 16), "'valid' size"), ((64, 64, 16), "stride 1"), ((32, 32, 3), "number of filters"),
             ((16, 32, 32), "channels last"), ((33, 32, 16), "height 33")],
    "01.2": [(1200, "bias"), (416, "whole input depth"), (76, "one filter"), (16384, "shared"), ("1216", "text")],
    "01.3": [(lambda: stride1, "stride-1"), (lambda: flipped, "flipped"), (lambda: same_padded, "'same' size"),
             (lambda: crashes, "raised IndexError"), (lambda: no_return, "returns None"),
             (np.zeros((3, 3)), "not a function")],
    "01.4": [(np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]), "vertical edges"), (np.ones((3, 3)), "flat"),
             (np.array([[1, 0, 0], [0, 0, 0], [0, 0, -1]]), "vertical edges too"), (np.zeros((3, 3)), "all-zero"),
             (np.ones((2, 2)), "3x3 kernel")],
    "02.1": [(7, "stride 1"), (8, "second Conv2D"), (5, "two convolutions"), (36, "do not multiply"),
             (12, "too high")],
    "02.2": [(295_424, "both pooling"), (15_860_224, "without any pooling"), (2_654_208, "bias"),
             (41_984, "every channel")],
    "02.3": [(ops.pool2d(PATCH, 2, mode="max"), "maxima"), (ops.pool2d(PATCH, 2, mode="avg") * 4, "sums"),
             (ops.pool2d(PATCH, 2, mode="avg").T, "swapped"), (ops.pool2d(PATCH, 2, 1, mode="avg"), "1 cell"),
             ([[2.5, 1.0], [2.0, 7.0]], "mean of one 2x2 block")],
    "02.4": [((7, 7, 128), "'valid' pooling"), ((15, 15, 128), "stride 1"), ((8, 8, 64), "depth stays 128"),
             ((128, 8, 8), "wrong order")],
    "03.1": [({"train": 2800, "validation": 600, "test": 600}, "both classes"),
             ({"train": 1000, "validation": 500, "test": 500}, "book's sizes"),
             ({"train": 0.7, "validation": 0.15, "test": 0.15}, "fractions"),
             ({"training": 1400, "validation": 300, "test": 300}, "keys"),
             ((1400, 300, 200), "add up to 1,900")],
    "03.2": [((1400, 1700), "one too far"), ((1401, 1700), "numbered from 0"), ((1000, 1499), "book's"),
             ((0, 299), "after the 1,400"), (("dog.1400.jpg", "dog.1699.jpg"), "about the cats")],
    "03.3": [("a", "independent"), ("c", "not confused"), ("d", "nothing checks"), ("e", "choose among")],
    "03.4": [(200, "one class"), (4000, "full profile"), (300, "test folder"), (401, "too high")],
    "04.1": [(4, "np.argmin"), (6, "already gone up"), (8, "validation accuracy peaks"), (15, "training accuracy")],
    "04.2": [(3_453_121, "baseline's"), (3_379_329, "Dense layer shrinks"), (1_847_489, "fewer weights too"),
             (1_606_144, "Dense(512) layer alone")],
    "04.3": [((80, 62), "16 pictures"), ((80, 62.5), "whole batch"), ((100, 100), "book's"),
             ((63, 80), "other way round"), (80, "pair")],
    "04.4": [(1, "alphabetical"), ("puppies", "is a name"), (2, "0 or 1"), (True, "True/False")],
    "05.1": [(lambda: datagen(fill_mode="nearest"), "fill_mode='constant'"),
             (lambda: datagen(rotation_range=math.radians(20)), "in degrees"),
             (lambda: datagen(width_shift_range=15), "counts pixels"),
             (lambda: datagen(width_shift_range=0.0, height_shift_range=0.1), "no vertical shift"),
             (lambda: datagen(zoom_range=1.1), "one number z"),
             (lambda: datagen(rescale=255), "rescale multiplies"),
             (lambda: datagen(shear_range=11.5), "remove shear_range"),
             ({"rotation_range": 20}, "dict of settings")],
    "05.2": [({"b"}, "c hurts too"), ({"a", "b", "c"}, "a is harmless"), ({"c", "d"}, "b hurts too"),
             ({"e"}, "choose among")],
    "05.3": [(0.2, "read as degrees"), (math.radians(0.2), "wrong way"), (36, "forgot π"), (20, "more than")],
    "05.4": [(1, "half of the draws"), (4, "vertical_flip"), (math.inf, "coin toss"), (3, "too many")],
    "06.1": [(lambda: mnist(None), "no Dropout"), (lambda: mnist(8), "output layer"),
             (lambda: mnist(7), "between the two Dense"), (lambda: mnist(6, rate=0.3), "rate is 0.5"),
             (lambda: mnist(5), "last feature map"), (lambda: mnist(6, dense=128), "must stay listing 5.1's"),
             (lambda: mnist(6, input_shape=(150, 150, 3)), "MNIST digits"), (lambda: keras_layers().Dropout(0.5),
                                                                             "not a Keras model")],
    "06.2": [(3136, "no weights"), (1, "setting"), (3_453_121, "whole model"), (-1_605_632, "keeps all its weights")],
    "06.3": [("a", "no new information"), ("c", "scored on them"), ("d", "changes the training data")],
    "06.4": [({0, 1}, "scales the kept values"), ({1}, "inference"), ({0, 0.5}, "scaled up"), ("0, 2", "as a set")],
    "06.5": [("It makes training faster on a CPU.", "nor the overfitting"),
             ("The augmented images are correlated with each other.", "not seem to mention the overfitting"),
             ("fast", "a few words"), (3, "not text")],
    "07.1": [((36, 36, 64), "layer 4"), ((72, 72, 64), "layer 3"), ((36, 36, 128), "that layer's input"),
             ((34, 34, 64), "own number of filters"), ((17, 17, 128), "layer 6")],
    "07.2": [("b", "38x38"), ("c", "too coarse"), ("d", "layers differ")],
    "07.3": [((7, 7), "last pooling"), ((150, 150), "resizing"), ((15, 15, 128), "no channel axis"),
             ((148, 148), "first Conv2D")],
    "07.4": [(lambda: any_zero, "some zero"), (lambda: blank_share, "share"), (lambda: blank_rows, "wrong axis"),
             (lambda: (lambda activation: None), "returns None"), (3, "not a function")],
    "08.1": [(lambda: keras_layers().RandomRotation(0.3), "108 degrees"),
             (lambda: keras_layers().RandomRotation(30 / 180), "60 degrees"),
             (lambda: keras_layers().RandomRotation(math.radians(30)), "not radians"),
             (lambda: keras_layers().RandomRotation(30 / 360), "fill_mode"),
             (lambda: keras_layers().RandomZoom(0.1), "does not rotate"), (30 / 360, "not a Keras layer")],
    "08.2": [(lambda: keras_layers().RandomFlip(), "both ways"), (lambda: keras_layers().RandomFlip("vertical"),
                                                                  "upside down"),
             (lambda: keras_layers().RandomRotation(0.1), "does not flip")],
    "08.3": [(["shuffle", "cache", "batch", "prefetch"], "same order"),
             (["cache", "batch", "shuffle", "prefetch"], "runs of neighbours"),
             (["cache", "shuffle", "prefetch", "batch"], "prefetch goes last"), (["cache", "shuffle"], "each of")],
    "08.4": [((9, 9), "restore_best_weights"), ((8, 5), "count epochs from 1"), ((12, 6), "stops early"),
             ((6, 6), "waits 3 epochs"), ((7, 4), "new low"), ((10, 6), "not 4")],
}


def make(answer):
    """The answer itself, or what a zero-argument maker builds (Keras objects are built per test)."""
    return answer() if callable(answer) and getattr(answer, "__name__", "") == "<lambda>" else answer


# ------------------------------------------------------------------- the registry

def test_every_notebook_has_three_or_more_exercises():
    assert NOTEBOOKS == [f"{n:02d}" for n in range(1, 9)]
    for nb in NOTEBOOKS:
        found = exercises.catalog(nb)
        assert 3 <= len(found) <= 5, nb
        assert [ex.id for ex in found] == [f"{nb}.{i}" for i in range(1, len(found) + 1)]


@pytest.mark.parametrize("ex_id", IDS)
def test_exercise_is_complete(ex_id):
    ex = exercises.catalog(ex_id.split(".")[0])[int(ex_id.split(".")[1]) - 1]
    assert ex.prompt.startswith(f"### Exercise {ex.id}: ")
    assert ex.hint and ex.explanation and ex.title and ex.kind
    assert ex.check_call() in exercise_cells.section_cells(ex.notebook)[2 * int(ex_id.split(".")[1]) + 1].source


@pytest.mark.parametrize("ex_id", IDS)
def test_worked_solution_is_correct(ex_id, request, capsys):
    """The solution's code, run after the notebook's imports, passes; check prints 'Correct'."""
    split_for(ex_id, request)
    answer = exercises.example_answer(ex_id)
    capsys.readouterr()  # what the solution itself printed
    result = exercises.feedback(ex_id, answer)
    assert result.status == CORRECT, result.message
    exercises.check(ex_id, answer)
    assert capsys.readouterr().out.startswith(f"[{ex_id}] Correct: ")


@pytest.mark.parametrize("ex_id", IDS)
def test_placeholder_says_not_answered(ex_id, capsys):
    """The learner's cell as the notebook holds it: the check says it is not answered yet, and does not raise."""
    ex = exercises.catalog(ex_id.split(".")[0])[int(ex_id.split(".")[1]) - 1]
    namespace = {}
    exec(f"{exercises.MODULES[ex.notebook].IMPORTS}\n{ex.starter}", namespace)  # noqa: S102 - the notebook's cell
    assert exercises.feedback(ex_id, namespace[ex.name]).status == UNANSWERED
    exercises.check(ex_id, namespace[ex.name])
    assert capsys.readouterr().out.startswith(f"[{ex_id}] Not answered yet: ")


def test_every_exercise_has_typical_wrong_answers():
    assert sorted(WRONG_ANSWERS) == IDS
    for ex_id, cases in WRONG_ANSWERS.items():
        assert len(cases) >= 2, ex_id


@pytest.mark.parametrize("ex_id,answer,fragment",
                         [(i, a, f) for i, cases in WRONG_ANSWERS.items() for a, f in cases],
                         ids=[f"{i}-{n}" for i, cases in WRONG_ANSWERS.items() for n in range(len(cases))])
def test_wrong_answer_gets_its_message(ex_id, answer, fragment, request):
    split_for(ex_id, request)
    result = exercises.feedback(ex_id, make(answer))
    assert result.status in (WRONG, UNREADABLE, UNANSWERED), result
    assert fragment in result.message, result.message
    assert len(result.message) > 25


@pytest.mark.parametrize("ex_id", IDS)
def test_at_least_two_typical_mistakes_are_wrong_not_unreadable(ex_id, request):
    split_for(ex_id, request)
    statuses = [exercises.feedback(ex_id, make(a)).status for a, _ in WRONG_ANSWERS[ex_id]]
    assert statuses.count(WRONG) >= 2, statuses


ODD = ["text", "", None, 3.7, -1, [1, 2], {"a": 1}, np.zeros((2, 2, 2)), (None,), True, object(), float("nan"),
       lambda *args: 1, [[1, 2], [3]]]


@pytest.mark.parametrize("ex_id", IDS)
def test_odd_answers_never_raise(ex_id, request):
    split_for(ex_id, request)
    for answer in ODD:
        result = exercises.feedback(ex_id, answer)
        assert result.status != CORRECT, (answer, result)
        assert result.message.strip(), answer


# ------------------------------------------------------------------- the checkers' truth and messages

def test_checkers_agree_with_independent_truth():
    layers = keras_layers()
    assert exercises.feedback("01.1", layers.Conv2D(16, 5, strides=2, padding="same").compute_output_shape(
        (None, 64, 64, 3))).correct
    assert exercises.feedback("01.2", ops.conv_params(5, 5, 3, 16)).correct
    assert exercises.feedback("02.1", ops.receptive_field([(3, 1), (2, 2)] * 2)).correct
    assert exercises.feedback("04.3", (len(range(0, 2000, 25)), len(range(0, 2000, 32)))).correct
    assert exercises.feedback("07.2", "b").message.count(str(ops.receptive_field([(3, 1), (2, 2)] * 3 + [(3, 1)])))
    rand, block = exercises.dataset.leaked_share()
    assert rand > 0.5 and block == 0


def test_answers_in_other_forms_are_accepted():
    assert exercises.feedback("01.1", (None, 32, 32, 16)).correct  # with the batch axis
    assert exercises.feedback("01.4", [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]).correct  # Prewitt, as lists
    assert exercises.feedback("03.1", (1400, 300, 300)).correct
    assert exercises.feedback("03.2", ("cat.1400.jpg", "cat.1699.jpg")).correct
    assert exercises.feedback("05.2", "b, c").correct
    assert exercises.feedback("05.3", 11.5).correct
    assert exercises.feedback("06.4", [2, 0]).correct
    assert exercises.feedback("07.2", "A").correct
    assert exercises.feedback("08.1", keras_layers().RandomRotation((-1 / 12, 1 / 12), fill_mode="nearest")).correct


def test_03_4_counts_the_files_on_disk(tiny_split):
    quick = config.get_profile("quick")
    result = exercises.feedback("03.4", 2 * quick.per_class)  # the profile says 400, the disk holds 28
    assert result.status == WRONG and "on disk holds 28" in result.message
    assert exercises.feedback("03.4", 28).correct


def test_03_4_without_data_says_what_to_do():
    result = exercises.feedback("03.4", 400)
    assert result.status == UNREADABLE and "make data" in result.message


def test_check_hint_solution_show_print_one_clear_answer(capsys):
    exercises.check("01.1", (30, 30, 16))
    out = capsys.readouterr().out
    assert out.startswith("[01.1] Not yet: that is the 'valid' size") and 'exercises.hint("01.1")' in out
    exercises.hint("1.1")
    assert capsys.readouterr().out.startswith("Hint 01.1: With padding='same'")
    exercises.solution("01.1")
    out = capsys.readouterr().out
    assert out.startswith("Solution 01.1 · ") and "answer = (32, 32, 16)" in out
    exercises.show("02")
    out = capsys.readouterr().out
    assert all(f"02.{i}" in out for i in range(1, 5))
    for call in (lambda: exercises.check("01.9", 1), lambda: exercises.hint("x"), lambda: exercises.solution(None)):
        call()
        assert capsys.readouterr().out.startswith("No exercise ")
    exercises.show("42")
    assert "notebooks 01, 02" in capsys.readouterr().out
    assert exercises.material("01.1") is None and "gives no material" in capsys.readouterr().out


def test_material_is_a_fresh_copy():
    history = exercises.material("04.1")
    history["val_loss"].clear()
    assert len(exercises.material("04.1")["val_loss"]) == 15
    patch = exercises.material("02.3")
    patch[:] = 0
    assert exercises.material("02.3").sum() > 0


def test_learner_code_output_is_not_printed(capsys):
    def noisy(image, kernel):
        print("debugging")
        return ops.conv2d(image, kernel, stride=2)[:, :, 0]
    assert exercises.feedback("01.3", noisy).correct
    assert "debugging" not in capsys.readouterr().out


def test_judge_reports_checker_bugs_instead_of_raising():
    def broken(answer):
        raise ZeroDivisionError("boom")
    result = core.judge("00.0", broken, 1)
    assert result.status == UNREADABLE and "ZeroDivisionError" in result.message


# ------------------------------------------------------------------- notebooks

@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_course_notebook_ends_with_its_exercises(nb):
    """The Exercises section is the end of the notebook and matches the registry (tests/exercise_cells.py)."""
    cells = nbformat.read(exercise_cells.notebook_path(nb), as_version=4).cells
    start = exercise_cells.section_start(cells)
    assert start is not None, f"no '{exercise_cells.SECTION}' section: run tests/exercise_cells.py sections"
    want = exercise_cells.section_cells(nb)
    assert [(c.cell_type, c.source) for c in cells[start:]] == [(c.cell_type, c.source) for c in want], (
        "the Exercises section differs from helpers.exercises: run `python tests/exercise_cells.py sections`")
    assert exercises.MODULES[nb].FILE.replace(".ipynb", "_solutions.ipynb") in want[0].source


@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_solutions_notebook_matches_registry_and_checks_every_answer(nb):
    path = exercise_cells.solutions_path(nb)
    assert path.exists(), f"{path.name} is missing: run `python tests/exercise_cells.py solutions {nb}`"
    book = nbformat.read(path, as_version=4)
    want = exercise_cells.solutions_cells(nb)
    assert [(c.cell_type, c.source) for c in book.cells] == [(c.cell_type, c.source) for c in want], (
        "the solutions notebook differs from helpers.exercises: run `python tests/exercise_cells.py solutions`")
    for ex in exercises.catalog(nb):
        cell = next(c for c in book.cells if c.cell_type == "code" and ex.check_call() in c.source)
        assert exercise_cells.MARKER in cell.source.splitlines()
        text = "".join(out.get("text", "") for out in cell.outputs)
        assert f"[{ex.id}] Correct: " in text, f"{path.name}: stored output of {ex.id} is not a correct check"


@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_solutions_notebook_hygiene(nb):
    """The house rules of tests/test_notebook_hygiene.py hold for the solutions notebooks too."""
    test_notebook_hygiene.test_notebook_hygiene(exercise_cells.solutions_path(nb))
