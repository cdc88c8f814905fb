"""The book's listings 5.1-5.15 in notebooks 01 and 03-06: each one plain cell, checked on its syntax tree, run alone.

A listing cell's first line is `# Listing 5.N: <the book's title>` (a listing split over two cells goes on in a
cell whose first line is `# Listing 5.N (continued)`). It calls nothing from helpers and reads only the names
the book's earlier listings define or that earlier listing cells of its notebook define, and a few plain
variables the notebook sets, once, in its cells before the first listing (SETUP_NAMES). Then each notebook's
cells before its first listing, followed by its listing cells alone, run in a fresh kernel in the quick
profile: what a learner gets who copies the listings after the set-up.
"""
import ast
import builtins
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbval_checked import cell_problems

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = {number: next((ROOT / "notebooks").glob(f"{number}_*.ipynb")) for number in ("01", "03", "04", "05", "06")}
TEST_DATA = ROOT / "build" / "test-data"

# The book's titles (1st edition, sections 5.1 and 5.2).
TITLES = {
    "5.1": "Instantiating a small convnet",
    "5.2": "Adding a classifier on top of the convnet",
    "5.3": "Training the convnet on MNIST images",
    "5.4": "Copying images to training, validation, and test directories",
    "5.5": "Instantiating a small convnet for dogs vs. cats classification",
    "5.6": "Configuring the model for training",
    "5.7": "Using ImageDataGenerator to read images from directories",
    "5.8": "Fitting the model using a batch generator",
    "5.9": "Saving the model",
    "5.10": "Displaying curves of loss and accuracy during training",
    "5.11": "Setting up a data augmentation configuration via ImageDataGenerator",
    "5.12": "Displaying some randomly augmented training images",
    "5.13": "Defining a new convnet that includes dropout",
    "5.14": "Training the convnet using data-augmentation generators",
    "5.15": "Saving the model",
}
SPLIT_LISTINGS = {"5.14"}  # may go on in a `# Listing 5.N (continued)` cell
HEADER = re.compile(r"# Listing (5\.\d+)(?:: (.+)| \(continued\))$")

# What a listing may read without defining it. The book's earlier listings define these (listing 5.4 its folders,
# after `import os, shutil`; 5.5-5.7 and 5.10 their imports), so a notebook that does not hold those listings
# sets them before its first listing...
BOOK_NAMES = {"os", "shutil", "original_dataset_dir", "base_dir", "train_dir", "validation_dir", "test_dir",
              "train_cats_dir", "train_dogs_dir", "validation_cats_dir", "validation_dogs_dir", "test_cats_dir",
              "test_dogs_dir", "keras", "layers", "models", "optimizers", "ImageDataGenerator", "plt"}
# ...and these plain variables from the profile, set once and visibly before the first listing.
COURSE_NAMES = {"n_train", "n_val", "n_test", "scratch", "models_dir", "epochs", "steps_per_epoch",
                "validation_steps", "callbacks", "digit_data"}  # digit_data: what mnist.load_data() returns
SETUP_NAMES = BOOK_NAMES | COURSE_NAMES


def code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def header(cell):
    """(listing number, title or None for a continued cell) of a listing cell, else None."""
    first = cell.source.split("\n", 1)[0]
    match = HEADER.match(first)
    if match is None:
        assert not first.startswith("# Listing"), f"malformed listing header: {first!r}"
        return None
    return match.group(1), match.group(2)


def split_cells(path):
    """(the code cells before the first listing, the listing cells), in order."""
    cells = code_cells(path)
    first = next(i for i, c in enumerate(cells) if header(c))
    return cells[:first], [c for c in cells[first:] if header(c)]


def bound_names(tree):
    """Every name a piece of code binds anywhere: assignments, imports, defs, arguments, loop targets."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def read_names(tree):
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def assignments(cells, name):
    """How many times the cells bind `name` (assignment targets and imports)."""
    count = 0
    for cell in cells:
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id == name:
                count += 1
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                count += sum((a.asname or a.name).split(".")[0] == name for a in node.names)
    return count


def test_every_listing_once_with_the_books_title():
    seen = {}
    for number, path in NOTEBOOKS.items():
        for cell in split_cells(path)[1]:
            listing, title = header(cell)
            if title is None:
                assert listing in SPLIT_LISTINGS and listing in seen, f"{path.name}: a continued {listing} alone"
                continue
            assert listing not in seen, f"listing {listing} in notebooks {seen[listing]} and {number}"
            assert title == TITLES[listing], f"{path.name}: listing {listing} is titled {TITLES[listing]!r} in the book"
            seen[listing] = number
    assert sorted(seen, key=lambda n: int(n[2:])) == list(TITLES)


@pytest.mark.parametrize("number", NOTEBOOKS)
def test_listings_read_only_the_books_names_and_plain_variables(number):
    setup, listings = split_cells(NOTEBOOKS[number])
    defined = set()
    for cell in listings:
        tree = ast.parse(cell.source)
        name = cell.source.split("\n", 1)[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("helpers"), f"{name} imports from helpers"
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("helpers") for a in node.names), f"{name} imports helpers"
        free = read_names(tree) - bound_names(tree) - set(dir(builtins))
        unknown = free - defined - SETUP_NAMES
        assert not unknown, f"{name} reads {sorted(unknown)}: not defined by a listing nor a plain setup variable"
        for needed in sorted(free - defined):
            times = assignments(setup, needed)
            assert times == 1 if needed in COURSE_NAMES else times >= 1, (
                f"{name} reads {needed!r}: set it {'exactly ' if needed in COURSE_NAMES else ''}once "
                "in the cells before the first listing")
        defined |= bound_names(tree)


@pytest.fixture(scope="module")
def test_data():
    """The quick profile's synthetic split in build/test-data, as `make test-notebooks` prepares it (kept if there)."""
    env = {**os.environ, "COURSE_PROFILE": "quick", "COURSE_DATA_DIR": str(TEST_DATA)}
    subprocess.run([sys.executable, "-m", "helpers", "data", "--source", "synthetic"], env=env, cwd=ROOT,
                   check=True, capture_output=True)
    return TEST_DATA


@pytest.mark.parametrize("number", NOTEBOOKS)
def test_setup_then_listings_alone_run_in_a_fresh_kernel(number, test_data, tmp_path):
    from nbclient import NotebookClient

    setup, listings = split_cells(NOTEBOOKS[number])
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c.source) for c in setup + listings])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_CURRENT_TEST"}  # as a learner's kernel
    env.update(COURSE_PROFILE="quick", COURSE_DATA_DIR=str(test_data), COURSE_MODELS_DIR=str(tmp_path / "models"))
    for key, value in (("TF_ENABLE_ONEDNN_OPTS", "1"), ("TF_CPP_MIN_LOG_LEVEL", "2"), ("PYTHONHASHSEED", "0")):
        env.setdefault(key, value)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute(
        env=env)
    for cell in nb.cells:
        problems = cell_problems(cell.source, cell.outputs)
        assert not problems, f"{cell.source.splitlines()[0]!r} shows {'; '.join(problems)}"
    if number in ("04", "06"):
        run = {"04": 1, "06": 2}[number]
        assert (tmp_path / "models" / f"cats_and_dogs_small_{run}.keras").is_file()  # listing 5.9 or 5.15
