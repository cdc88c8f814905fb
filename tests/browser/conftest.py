"""A JupyterLab server on a copy of the notebooks and headless Chromium driving it, as a learner would.

The server runs the quick profile on a temporary copy of notebooks/, with the data copied from build/
(prepared here when missing). Every course notebook runs here exactly once, in order (00, 01, ...), so
the models notebooks 04 and 06 train are there for 05, 07 and 08; each run is checked as nbval checks
it (errors, the output scan, checked cells against their stored outputs), so `make test` does not run
these notebooks under nbval again. Everything is removed at the end, even on failure.
"""
import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from nbval_checked import cell_problems, checked_cell_differences

REPO = Path(__file__).resolve().parents[2]
# COURSE_BROWSER_NOTEBOOKS points the harness at another notebook folder (to try the harness itself).
NOTEBOOKS = Path(os.environ.get("COURSE_BROWSER_NOTEBOOKS") or REPO / "notebooks")
SCREENSHOTS = REPO / "build" / "screenshots"
BUILT_DATA = REPO / "build" / "test-data"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps",
    "--disable-dev-shm-usage", "--metrics-recording-only", "--no-default-browser-check",
]
SERVER_START_S = 90
KERNEL_READY_S = 120
RUN_ALL_S = 300
# Notebooks whose scenario also runs them whole and checks the run (not run twice).
WIDGET_SCENARIOS = {"01_convolution.ipynb": "test_browser_convolution.py",
                    "02_pooling.ipynb": "test_browser_exercises.py",
                    "05_data_augmentation.ipynb": "test_browser_augmentation.py",
                    "07_what_the_convnet_learned.ipynb": "test_browser_activations.py"}
WIDGET_TEXT_ERRORS = ("Error displaying widget", "Error rendering output item")


def notebook_names():
    """The course notebooks, in order (NN_topic.ipynb)."""
    return sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_data(dest, env):
    """Copy the quick split from build/test-data, or generate the synthetic one into dest."""
    if (BUILT_DATA / "cats_and_dogs_small").is_dir():
        shutil.copytree(BUILT_DATA, dest)
        return
    subprocess.run([sys.executable, "-m", "helpers", "data", "--source", "synthetic"],
                   env={**env, "COURSE_DATA_DIR": str(dest)}, check=True, cwd=REPO)


class LabServer:
    """A running JupyterLab: its base URL, token and REST helpers."""

    def __init__(self, root):
        self.root = Path(root)
        self.notebooks = self.root / "notebooks"
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = self.root / "server.log"
        self.proc = None

    def env(self):
        """The server's environment: quick profile, copied data/models, private Jupyter dirs."""
        env = dict(os.environ)
        env.pop("PYTEST_CURRENT_TEST", None)  # set, it stops kernels showing native stderr as a learner's do
        env.update(COURSE_PROFILE="quick",
                   COURSE_DATA_DIR=str(self.root / "data"),
                   COURSE_MODELS_DIR=str(self.root / "models"),
                   JUPYTER_CONFIG_DIR=str(self.root / "jupyter-config"),
                   JUPYTER_DATA_DIR=str(self.root / "jupyter-data"),
                   JUPYTER_RUNTIME_DIR=str(self.root / "jupyter-runtime"),
                   IPYTHONDIR=str(self.root / "ipython"),
                   PYTHONHASHSEED="0")
        env.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        return env

    def prepare(self):
        """Copy notebooks and data, an empty models folder (04 and 06 train here); settings that keep dialogs away."""
        shutil.copytree(NOTEBOOKS, self.notebooks,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        prepare_data(self.root / "data", self.env())
        (self.root / "models").mkdir()
        self.write_settings("apputils-extension", "notification", fetchNews="false", checkForUpdates=False)
        # On a cold start the kernel list can arrive after the notebook: start python3, don't ask.
        self.write_settings("notebook-extension", "tracker", autoStartDefaultKernel=True)

    def write_settings(self, extension, plugin, **values):
        """Write one JupyterLab user setting file into the server's private settings folder."""
        folder = self.root / "lab-settings" / "@jupyterlab" / extension
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{plugin}.jupyterlab-settings").write_text(json.dumps(values))

    def command(self):
        """The `jupyter lab` command line."""
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
               f"--ServerApp.root_dir={self.notebooks}",
               "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.expose_app_in_browser=True",
               f"--LabApp.user_settings_dir={self.root / 'lab-settings'}",
               f"--LabApp.workspaces_dir={self.root / 'workspaces'}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        return cmd

    def start(self):
        """Start the server and wait until its REST API answers."""
        self.prepare()
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.command(), env=self.env(), cwd=self.notebooks,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status")
                return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"JupyterLab did not answer within {SERVER_START_S} s:\n{self.log_tail()}")

    def api(self, method, path):
        """Call the server's REST API with the token; the decoded JSON answer (or None)."""
        req = urllib.request.Request(self.base + path, method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self):
        """Shut every session and kernel down (they hold TensorFlow's memory)."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def url(self, notebook):
        """The URL that opens one notebook in a fresh workspace."""
        return f"{self.base}/lab/tree/{notebook}?reset&token={self.token}"

    def log_tail(self, n=40):
        """The last lines the server wrote."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no server log)"

    def stop(self):
        """Stop the server (it shuts its kernels down), killing it if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(OSError):
            self.shutdown_kernels()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(timeout=5)


def pytest_generate_tests(metafunc):
    """Tests taking a `notebook` argument run once per course notebook not run by a widget scenario."""
    if "notebook" in metafunc.fixturenames:
        metafunc.parametrize("notebook", [n for n in notebook_names() if n not in WIDGET_SCENARIOS])


def notebook_of(item):
    """The course notebook a browser test runs: its `notebook` parameter, else its module's NOTEBOOK."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "notebook" in callspec.params:
        return str(callspec.params["notebook"])
    return str(getattr(item.module, "NOTEBOOK", ""))  # str: this hook sorts every test module's items


def pytest_collection_modifyitems(items):
    """Run the notebooks in course order, wherever their test lives: later ones use earlier ones' models."""
    items.sort(key=notebook_of)


@pytest.fixture
def course_notebooks():
    """The course notebooks' names."""
    return notebook_names()


@pytest.fixture
def widget_scenarios():
    """Notebook name -> the test file whose widget scenario runs it."""
    return dict(WIDGET_SCENARIOS)


@pytest.fixture(scope="session")
def lab_server():
    """A JupyterLab server on a temporary copy of the notebooks (quick profile)."""
    root = tempfile.mkdtemp(prefix="course-browser-")
    server = LabServer(root)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def browser_context():
    """Headless Chromium (Debian's, offline-safe flags, fresh profile) as a Playwright context."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: run `sudo make browser-deps` "
                    "(or set CHROMIUM=/path/to/chromium)")
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="course-chromium-")
    args = list(CHROMIUM_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=args,
                viewport={"width": 1400, "height": 1000}, service_workers="block")
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


class Lab:
    """One browser tab on the lab: open a notebook, run it, find widgets, check outputs."""

    def __init__(self, page, server, name):
        self.page = page
        self.server = server
        self.name = name
        self.console = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.console.append(f"pageerror: {exc}"))

    def _on_console(self, msg):
        """Keep console errors and warnings for the failure report."""
        if msg.type in ("error", "warning"):
            self.console.append(f"{msg.type}: {msg.text}")

    def open(self, notebook):
        """Open a notebook in a fresh workspace and wait until its kernel is idle."""
        self.notebook = notebook
        self.page.goto(self.server.url(notebook))
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=KERNEL_READY_S * 1000)
        # The toolbar says idle before the kernel's websocket is up; ask the session itself.
        self.page.wait_for_function(
            """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                       const k = w && w.sessionContext && w.sessionContext.session
                                 && w.sessionContext.session.kernel;
                       return !!(w && w.context.isReady && k && k.connectionStatus === 'connected'
                                 && k.status === 'idle'); }""",
            timeout=KERNEL_READY_S * 1000, polling=250)
        return self

    def run_all(self, timeout_s=RUN_ALL_S):
        """Run > Run All Cells from the menu bar, then wait for the last cell and the widgets."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        self.page.wait_for_function(
            """() => [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')]
                     .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))""", timeout=30_000)
        self.wait_idle(timeout_s)
        self.wait_widgets()
        return self

    def wait_idle(self, timeout_s=RUN_ALL_S):
        """Wait until no cell is queued or running and the kernel reports idle."""
        self.page.wait_for_function(
            """() => {
                 const busy = [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')]
                              .some(p => p.textContent.includes('*'));
                 const ind = document.querySelector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator');
                 return !busy && ind && ind.dataset.status === 'idle';
               }""", timeout=timeout_s * 1000, polling=250)

    def wait_widgets(self, timeout_s=60):
        """Wait until no widget output still says 'Loading widget...'."""
        self.page.wait_for_function(
            """() => ![...document.querySelectorAll('.jp-OutputArea-output')]
                      .some(o => o.textContent.trim() === 'Loading widget...')""",
            timeout=timeout_s * 1000, polling=250)

    def cell_outputs(self):
        """Every code cell's outputs as the notebook model holds them (nbformat dicts)."""
        return self.page.evaluate(
            """() => {
                 const panel = window.jupyterapp.shell.currentWidget;
                 return panel.content.model.sharedModel.cells
                   .filter(c => c.cell_type === 'code')
                   .map(c => ({source: c.source, count: c.execution_count, outputs: c.toJSON().outputs}));
               }""")

    def errors(self):
        """Error outputs in the notebook model and error texts shown on the page."""
        found = []
        for i, cell in enumerate(self.cell_outputs()):
            for out in cell["outputs"]:
                if out.get("output_type") == "error":
                    trace = strip_ansi("\n".join(out.get("traceback", [])))[-1500:]
                    found.append(f"code cell {i + 1}: {out.get('ename')}: {str(out.get('evalue'))[:800]}\n"
                                 f"{cell['source'][:300]}\n{trace}")
        # Warnings, TensorFlow log lines, bare reprs, a set-up cell that says more than the banner
        # (the scan nbval runs, tests/nbval_checked.py); errors are reported above with their traceback.
        for i, cell in enumerate(self.cell_outputs()):
            found += [f"code cell {i + 1} shows {problem}" for problem in cell_problems(cell["source"], cell["outputs"])
                      if not problem.startswith("an error")]
        # What the page shows: widget failures always, tracebacks when the model holds none.
        markers = WIDGET_TEXT_ERRORS + (() if found else ("Traceback (most recent call last)",))
        for text in self.page.locator(".jp-OutputArea-output").all_inner_texts():
            for marker in markers:
                if marker in text:
                    found.append(f"page shows {marker!r}: {text[:500]}")
        return found

    def stored_output_differences(self):
        """Checked cells whose outputs differ from those stored in notebooks/, by nbval's comparison."""
        import nbformat

        stored = [c for c in nbformat.read(NOTEBOOKS / self.notebook, as_version=4).cells if c.cell_type == "code"]
        return [f"code cell {n}: {what}" for n, what in checked_cell_differences(self.cell_outputs(), stored)]

    def check_run(self):
        """Every code cell ran, none shows an error or what the output scan forbids, checked cells match."""
        errors = self.errors()
        assert not errors, f"{self.notebook} shows errors:\n\n" + "\n\n".join(errors)
        assert not self.unexecuted(), f"{self.notebook}: code cells {self.unexecuted()} did not run"
        differences = self.stored_output_differences()
        assert not differences, f"{self.notebook}: checked cells differ from their stored outputs:\n\n" + \
            "\n\n".join(differences)

    def unexecuted(self):
        """Indices of code cells that never ran (a non-empty cell with no execution count)."""
        return [i + 1 for i, c in enumerate(self.cell_outputs())
                if c["count"] is None and c["source"].strip()]

    def widget(self, css_class):
        """The one element carrying a widget's DOM class, scrolled into view."""
        loc = self.page.locator(f".{css_class}")
        loc.first.wait_for(state="attached", timeout=30_000)
        count = loc.count()
        assert count == 1, f"expected one element with class {css_class!r}, found {count}"
        loc.scroll_into_view_if_needed()
        return loc

    def image_digest(self, css_class):
        """SHA-256 and pixel size of the bytes an <img> widget shows (blob URLs change even for equal images).

        The size is decoded from the same bytes as the digest, not read from the <img>, which reports
        0 x 0 while a new picture is still loading (a busy machine makes that window wide).
        """
        img = self.widget(css_class)
        tag = img.evaluate("e => e.tagName")
        sel = f".{css_class}" if tag == "IMG" else f".{css_class} img"
        return self.page.evaluate(
            """async (sel) => {
                 const img = document.querySelector(sel);
                 const src = img.src;
                 const blob = await (await fetch(src)).blob();
                 const hash = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
                 const bitmap = await createImageBitmap(blob);
                 const size = {width: bitmap.width, height: bitmap.height};
                 bitmap.close();
                 return {src, digest: [...new Uint8Array(hash)].map(b => b.toString(16).padStart(2, '0')).join(''),
                         ...size};
               }""", sel)

    def wait_image_change(self, css_class, before, timeout_s=30):
        """Wait until a widget image's src moves away from `before['src']`; its new digest info."""
        sel = f".{css_class}"
        self.page.wait_for_function(
            """([sel, src]) => { const e = document.querySelector(sel);
                                 const img = e && (e.tagName === 'IMG' ? e : e.querySelector('img'));
                                 return img && img.src && img.src !== src; }""",
            arg=[sel, before["src"]], timeout=timeout_s * 1000, polling=100)
        self.wait_idle(60)
        return self.image_digest(css_class)

    def text(self, css_class):
        """The visible text of a widget."""
        return self.widget(css_class).inner_text()

    def slider(self, css_class):
        """The handle of an ipywidgets slider (noUiSlider: role=slider with aria-value*)."""
        return self.widget(css_class).locator(".noUi-handle").first

    def slider_value(self, css_class):
        """A slider's value as its readout shows it (a float; ints stay integral)."""
        return float(self.widget(css_class).locator(".widget-readout").inner_text().strip())

    def drag_slider(self, css_class, value):
        """Drag a slider's handle with the mouse to where `value` sits on its track."""
        widget = self.widget(css_class)
        handle = self.slider(css_class)
        lo, hi = (float(handle.get_attribute(a)) for a in ("aria-valuemin", "aria-valuemax"))
        track = widget.locator(".noUi-base").first.bounding_box()
        box = handle.bounding_box()
        x0, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        x1 = track["x"] + track["width"] * (value - lo) / (hi - lo)
        self.page.mouse.move(x0, y)
        self.page.mouse.down()
        self.page.mouse.move(x1, y, steps=12)
        self.page.mouse.up()

    def press_slider(self, css_class, key, times=1):
        """Focus a slider's handle (click) and press a key, e.g. ArrowRight, like a learner."""
        handle = self.slider(css_class)
        handle.focus()
        for _ in range(times):
            handle.press(key)

    def pick_next(self, css_class):
        """Pick the option after the current one in a Dropdown (as choosing it from the list does)."""
        select = self.widget(css_class).locator("select")
        options = select.locator("option").all_inner_texts()
        current = select.evaluate("s => s.options[s.selectedIndex].text")
        choice = options[(options.index(current) + 1) % len(options)]
        select.select_option(label=choice)
        return current, choice

    def show_top(self):
        """Scroll the notebook back to its first cells (the set-up cell and its banner)."""
        self.page.evaluate("""async () => { const notebook = window.jupyterapp.shell.currentWidget.content;
                                            notebook.activeCellIndex = 0;
                                            await notebook.scrollToItem(0, 'start'); }""")
        self.page.locator(".jp-NotebookPanel .jp-CodeCell .jp-OutputArea-output").first.wait_for(state="visible")

    def screenshot(self, name):
        """Save the visible lab to build/screenshots/<name>.png; return the path."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


def strip_ansi(text):
    """Text without terminal colour codes."""
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def screenshot_name(item):
    """A file name for a test's screenshot: test name with parameters, safe characters only."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", item.name.removeprefix("test_")).strip("_")


@pytest.fixture
def lab(request, lab_server, browser_context):
    """A fresh tab on the lab; screenshot at the end, kernels shut down, tab closed."""
    page = browser_context.new_page()
    page.set_default_timeout(30_000)
    driver = Lab(page, lab_server, request.node.name)
    try:
        yield driver
    finally:
        try:
            driver.screenshot(screenshot_name(request.node))
        except Exception as exc:  # a crashed page must not hide the test's own failure
            print(f"screenshot failed: {exc}")
        page.close()
        try:
            lab_server.shutdown_kernels()
        except OSError as exc:
            print(f"kernel shutdown failed: {exc}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, add the page's console errors and the server log to the report."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    driver = item.funcargs.get("lab")
    if driver is not None:
        report.sections.append(("browser console", "\n".join(driver.console) or "(no console errors)"))
        report.sections.append(("screenshot", str(SCREENSHOTS / f"{screenshot_name(item)}.png")))
    server = item.funcargs.get("lab_server")
    if server is not None:
        report.sections.append(("JupyterLab server log (tail)", server.log_tail()))
