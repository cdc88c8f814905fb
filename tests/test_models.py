"""The chapter's convnets against the book's model summaries (listings 5.5 and 5.13)."""
from pathlib import Path

import keras
import nbformat
import pytest

from helpers import book, models

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

# model.summary() as printed in the book, section 5.2.3: (layer type, output shape, params).
BOOK_BASELINE = [
    ("Conv2D", (148, 148, 32), 896),
    ("MaxPooling2D", (74, 74, 32), 0),
    ("Conv2D", (72, 72, 64), 18496),
    ("MaxPooling2D", (36, 36, 64), 0),
    ("Conv2D", (34, 34, 128), 73856),
    ("MaxPooling2D", (17, 17, 128), 0),
    ("Conv2D", (15, 15, 128), 147584),
    ("MaxPooling2D", (7, 7, 128), 0),
    ("Flatten", (6272,), 0),
    ("Dense", (512,), 3211776),
    ("Dense", (1,), 513),
]
BOOK_TOTAL = book.PARAMETERS  # the summary's 'Total params', written once in helpers/book.py
BOOK_DROPOUT = BOOK_BASELINE[:9] + [("Dropout", (6272,), 0)] + BOOK_BASELINE[9:]


def layer_table(model):
    """Rows of (layer class, output shape without batch, parameter count), as the book's summaries list them."""
    return [(type(layer).__name__, tuple(layer.output.shape[1:]), layer.count_params()) for layer in model.layers]


def test_baseline_matches_book_summary():
    model = models.build_baseline()
    assert layer_table(model) == BOOK_BASELINE
    assert model.count_params() == BOOK_TOTAL == sum(params for _, _, params in BOOK_BASELINE)
    assert model.input_shape == (None, 150, 150, 3)


def test_dropout_model_matches_book_summary():
    model = models.build_dropout_model()
    assert layer_table(model) == BOOK_DROPOUT
    assert model.count_params() == BOOK_TOTAL
    dropout = model.layers[9]
    assert dropout.rate == 0.5


def test_activations_and_kernels():
    model = models.build_baseline()
    convs = [l for l in model.layers if isinstance(l, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [32, 64, 128, 128]
    assert all(c.kernel_size == (3, 3) and c.activation.__name__ == "relu" for c in convs)
    pools = [l for l in model.layers if isinstance(l, keras.layers.MaxPooling2D)]
    assert all(p.pool_size == (2, 2) for p in pools)
    assert model.layers[-1].activation.__name__ == "sigmoid"
    assert model.layers[-2].activation.__name__ == "relu"


def test_compile_uses_book_optimizer():
    model = models.compile_model(models.build_baseline())
    assert isinstance(model.optimizer, keras.optimizers.RMSprop)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-4)
    assert model.loss == "binary_crossentropy"


def test_summary_table_lists_each_layer_and_total():
    model = models.build_baseline()
    text = models.summary_table(model)
    lines = text.splitlines()
    assert len(lines) == 1 + 1 + len(model.layers) + 1 + 1
    assert lines[-1] == "Total params: 3,453,121"
    assert "(None, 148, 148, 32)" in lines[2] and lines[2].rstrip().endswith("896")
    assert "3,211,776" in text and "╭" not in text and "━" not in text


def notebook_model(name, listing):
    """Execute a notebook's listing cell that builds `model` (after the imports of listings 5.5-5.7); return model."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code" and c.source.startswith(f"# Listing {listing}:")]
    assert len(cells) == 1, f"{name}: expected one cell of listing {listing}, found {len(cells)}"
    namespace = {}
    exec("import keras\nfrom keras import layers, models, optimizers", namespace)
    exec(compile(cells[0], name, "exec"), namespace)
    return namespace["model"]


@pytest.mark.parametrize("name, listing, builder", [
    ("04_baseline_convnet.ipynb", "5.5", models.build_baseline),
    ("06_dropout_and_augmentation.ipynb", "5.13", models.build_dropout_model),
])
def test_notebook_code_builds_the_helper_model(name, listing, builder):
    shown, helper = notebook_model(name, listing), builder()
    assert layer_table(shown) == layer_table(helper)
    for a, b in zip(shown.layers, helper.layers):
        assert a.get_config() | {"name": ""} == b.get_config() | {"name": ""}
    assert shown.count_params() == helper.count_params() == BOOK_TOTAL
