"""pytest plugin (loaded from pyproject.toml), nbval glue: checked cells are compared, every cell's outputs are read.

1. Stored notebooks keep null execution counts, so checked cells with outputs are marked as run:
   nbval refuses a reference cell that has outputs but no execution count ("Unrun reference cell has
   outputs"); the house rules (tests/test_notebook_hygiene.py) keep every execution count null.
2. Every cell nbval executes has its fresh outputs scanned for what a learner must never see: a
   traceback, a Python warning, a TensorFlow log line, TensorFlow's start-up log, a bare object repr, a claim
   its own numbers contradict (the at-chance note, claim_problems).
   The first cell (the set-up) may print the course's banner line and nothing else. The same scan
   reads the outputs of the browser tests and the stored outputs (tests/test_notebook_hygiene.py).
3. Kernels start without pytest's PYTEST_CURRENT_TEST, so they show native stderr as a learner's do.
4. checked_cell_differences() compares a notebook run elsewhere (the browser tests' JupyterLab) with the
   stored outputs by nbval's own comparison, so a notebook run there need not run again under nbval.
"""
import os
import re

import pytest

MARKER = "# NBVAL_CHECK_OUTPUT"
SETUP_CALL = "helpers.setup_notebook()"
BANNER = re.compile(r"Profile: [^\n]+\n?")

# (what it is, pattern): searched in stream text and in text-only results, line by line (re.MULTILINE).
PROBLEMS = (
    ("a traceback", re.compile(r"Traceback \(most recent call last\)")),
    ("a Python warning", re.compile(r"\b\w*Warning: ")),
    ("a logged warning or error", re.compile(r"^(WARNING|ERROR|CRITICAL):[\w.]+:", re.MULTILINE)),
    ("a TensorFlow log line", re.compile(r"^[IWEF]\d{4} [\d:.]+\s+\d+ [\w./-]+:\d+\] ", re.MULTILINE)),
    ("TensorFlow's start-up log", re.compile(r"absl::InitializeLog\(\)|oneDNN custom operations are on")),
    ("a bare object repr", re.compile(r"<[\w.]+(?: object)? at 0x[0-9a-fA-F]+>")),
)
# A result whose only form is text like this is the repr of something meant to be drawn or discarded:
# a figure, axes, a title (`plt.title(...)` as a cell's last line), returned by a call without a `;`.
BARE_RESULTS = (
    ("a bare object repr", re.compile(r"<Figure size \d+x\d+ with \d+ Axes>|<Axes: |^\[?Text\(-?[\d.]+, -?[\d.]+, ")),
)


def joined(text):
    """nbformat text, which JSON may store as a list of lines, as one string."""
    return "".join(text) if isinstance(text, list) else str(text)


def output_texts(output):
    """(kind, text) pairs a learner reads in one nbformat output: stream text, an error, a text-only result."""
    kind = output.get("output_type")
    if kind == "stream":
        return [("stream", joined(output.get("text", "")))]
    if kind == "error":
        return [("error", f"{output.get('ename')}: {output.get('evalue')}")]
    data = output.get("data", {})
    if kind in ("display_data", "execute_result") and set(data) == {"text/plain"}:
        return [("result", joined(data["text/plain"]))]
    return []


def output_problems(outputs):
    """Every problem found in a cell's outputs, as 'what: the offending line' strings (empty: clean)."""
    found = []
    for output in outputs:
        for kind, text in output_texts(output):
            if kind == "error":
                found.append(f"an error: {text[:200]}")
                continue
            for what, pattern in PROBLEMS:
                match = pattern.search(text)
                if match:
                    line = text[text.rfind("\n", 0, match.start()) + 1:].split("\n", 1)[0]
                    found.append(f"{what}: {line.strip()[:200]!r}")
            if kind == "result":
                found += [f"{what}: {text.strip()[:200]!r}" for what, pattern in BARE_RESULTS
                          if pattern.search(text.strip())]
    return found


def banner_problems(outputs):
    """What the set-up cell shows besides exactly one banner line (empty: only the banner)."""
    texts = [text for output in outputs for _, text in output_texts(output)]
    others = [o for o in outputs if o.get("output_type") != "stream" or o.get("name") != "stdout"]
    if others or len(texts) != 1 or not BANNER.fullmatch(texts[0]):
        shown = " | ".join(t.strip()[:120] for t in texts) or "no text"
        return [f"the set-up cell must print only the banner line, it shows: {shown!r}"]
    return []


# A run's line and the at-chance note (helpers.training.chance_note) must agree with the accuracy they print:
# "Your run: validation accuracy V ..." only from the chance threshold up, "validation accuracy V: at chance" below it.
YOUR_RUN = re.compile(r"^Your run: validation accuracy (\d+\.\d+)", re.MULTILINE)
AT_CHANCE = re.compile(r"validation accuracy (\d+\.\d+): at chance")


def claim_problems(outputs):
    """Claims a cell printed that its own numbers contradict (empty: none)."""
    texts = [text for output in outputs for kind, text in output_texts(output) if kind == "stream"]
    if not any(YOUR_RUN.search(t) or AT_CHANCE.search(t) for t in texts):
        return []
    from helpers.training import CHANCE_BELOW

    found = []
    for text in texts:
        found += [f"a run below {CHANCE_BELOW} without the at-chance note: {m.group(0)!r}"
                  for m in YOUR_RUN.finditer(text) if float(m.group(1)) < CHANCE_BELOW]
        found += [f"the at-chance note on a run from {CHANCE_BELOW} up: {m.group(0)!r}"
                  for m in AT_CHANCE.finditer(text) if float(m.group(1)) > CHANCE_BELOW]
    return found


def cell_problems(source, outputs):
    """Output problems of one executed cell and claims its numbers contradict, with the set-up cell's banner rule."""
    problems = output_problems(outputs) + claim_problems(outputs)
    if SETUP_CALL in source and not problems:
        problems = banner_problems(outputs)
    return problems


# What nbval leaves out of every comparison (nbval.plugin.IPyNbFile, without --nbdime): ids, counts, pictures.
NBVAL_SKIP_COMPARE = ("metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
                      "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg")


def checked_cell_differences(executed_cells, reference_cells, sanitize_patterns=None):
    """Checked cells whose fresh outputs differ from the stored ones, by nbval's own comparison.

    executed_cells, reference_cells: the code cells of one notebook in order, as dicts with "source" and
    "outputs" (nbformat). Returns [(code cell number from 1, what nbval reports)]; empty when all agree.
    """
    import copy
    from types import SimpleNamespace

    import nbformat
    from nbval.plugin import IPyNbCell, coalesce_streams, nocolors

    class Comparison:
        """What nbval's IPyNbCell.compare_outputs reads from its cell."""

        colors = nocolors
        compare_outputs = IPyNbCell.compare_outputs
        sanitize = IPyNbCell.sanitize
        parent = SimpleNamespace(skip_compare=NBVAL_SKIP_COMPARE, sanitize_patterns=dict(sanitize_patterns or {}))

        def format_output_compare(self, key, stored, fresh):
            """nbval's report of one mismatch, without pytest's assertion machinery."""
            self.comparison_traceback.append(f"mismatch {key!r}\nstored:\n{stored}\nran:\n{fresh}")

    def outputs(cell):
        found = [nbformat.from_dict(copy.deepcopy(dict(o))) for o in cell.get("outputs", [])]
        for out in found:
            if "text" in out:
                out.text = joined(out.text)
        return coalesce_streams(found)

    if len(executed_cells) != len(reference_cells):
        return [(0, f"{len(executed_cells)} code cells ran, the stored notebook has {len(reference_cells)}")]
    differences = []
    for number, (ran, stored) in enumerate(zip(executed_cells, reference_cells), start=1):
        if MARKER not in joined(stored.get("source", "")).splitlines() or not stored.get("outputs"):
            continue
        comparison = Comparison()
        if not comparison.compare_outputs(outputs(ran), outputs(stored)):
            differences.append((number, "\n".join(comparison.comparison_traceback)))
    return differences


def without_pytest_marker(start):
    """Wrap a kernel-starting method so the kernel starts without PYTEST_CURRENT_TEST in its environment.

    ipykernel does not forward what native code writes to the process's stdout and stderr (fd 1 and 2)
    when that variable is set, so a kernel started from inside a test would hide exactly the TensorFlow
    lines a learner sees in JupyterLab. Without it, the kernel shows what a learner's kernel shows.
    """
    def started_as_a_learners(self, *args, **kwargs):
        marker = os.environ.pop("PYTEST_CURRENT_TEST", None)
        try:
            return start(self, *args, **kwargs)
        finally:
            if marker is not None:
                os.environ["PYTEST_CURRENT_TEST"] = marker
    started_as_a_learners.learner_env = True
    return started_as_a_learners


def pytest_configure(config):
    """nbval's notebook kernels start with a learner's environment (see without_pytest_marker)."""
    try:
        from nbval.plugin import IPyNbFile
    except ImportError:  # nbval not installed: nothing to wrap
        return
    if not getattr(IPyNbFile.setup, "learner_env", False):
        IPyNbFile.setup = without_pytest_marker(IPyNbFile.setup)


def pytest_collection_modifyitems(items):
    """Give checked notebook cells with stored outputs an execution count so nbval compares them."""
    for item in items:
        cell = getattr(item, "cell", None)
        if cell is not None and cell.get("outputs") and MARKER in cell.get("source", "").splitlines():
            cell.execution_count = 1


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After nbval ran a cell, fail it when its fresh outputs show something a learner must not see."""
    result = yield
    outputs = getattr(item, "test_outputs", None)
    cell = getattr(item, "cell", None)
    if outputs is not None and cell is not None:
        problems = cell_problems(cell.get("source", ""), outputs)
        if problems:
            pytest.fail(f"{item.parent.name}, code cell {item.cell_num} shows " + "; ".join(problems)
                        + "\nFix the cause (pass what the library expects, assign or discard a return "
                        "value), do not hide it.", pytrace=False)
    return result
