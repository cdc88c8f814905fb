"""Maintainers' tool: the Korean edition, notebooks/ko/, built from the English notebooks and i18n/ko/*.po.

    python tools/korean.py update   # add new English cells to the catalogs, mark changed ones fuzzy, drop deleted
    python tools/korean.py build    # write notebooks/ko/ (and ko/solutions/, executed) from the English and catalogs
    python tools/korean.py check    # what is stale, untranslated or fuzzy; exit 1 if anything is

One catalog per course notebook (`i18n/ko/NN_topic.po`, read and written with polib): one entry per markdown cell
before the Exercises section, its context the cell's id, its msgid the English source, its msgstr the Korean.
Figures quoted from the recorded runs (`<!--04-real.last-->0.760`, tools/run_figures.py) are kept in the catalogs
by name only and rendered at build time, so a new run changes no translation. Code cells are copied byte for byte,
except the set-up cell, which selects Korean (`helpers.setup_notebook(lang="ko")`). The Exercises sections and the
solutions notebooks are written from the exercise registry by tools/exercise_cells.py, in Korean: their texts, and
every other run-time message, are in helpers/locale/ko.po (one entry per helpers.i18n key). The course map's
labels are in i18n/ko/course_map.po (msgctxt: the label's key, tools/course_map.py); notebook 00's map attachment
is assets/ko/course_map.png, drawn from them by `python tools/korean.py map` (Chromium, as tools/course_map.py).
"""
import base64
import difflib
import hashlib
import re
import sys
from pathlib import Path

import nbformat
import polib

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tools"))
import colab_cells  # noqa: E402
import course_map  # noqa: E402
import exercise_cells  # noqa: E402
import nbtools  # noqa: E402
import run_figures  # noqa: E402

from helpers import exercises, i18n  # noqa: E402
from helpers.files import replacing  # noqa: E402

NOTEBOOKS = REPO / "notebooks"
CATALOGS = REPO / "i18n" / "ko"
KOREAN = NOTEBOOKS / "ko"
KOREAN_SOLUTIONS = KOREAN / "solutions"
KOREAN_ASSETS = REPO / "assets" / "ko"  # Korean variants of assets/ files, by the same name
MAP_PO = CATALOGS / "course_map.po"
DIGEST_KEY = "korean_messages"  # a Korean solutions notebook's metadata: messages_digest() of its stored outputs
MAP_SVG, MAP_PNG = KOREAN_ASSETS / "course_map.svg", KOREAN_ASSETS / "course_map.png"
EXERCISES = "## Exercises"
KOREAN_ONLY = "+ko"  # msgctxt "<cell id>+ko": a Korean-only cell after that English cell (msgid: ONLY_NOTE)
ONLY_NOTE = "(Korean only: a cell of the Korean edition after cell {id})"
BADGE = "open-in-colab"  # the Colab badge cell: written by the build (tools/colab_cells.py's badge), not translated
SETUP = "helpers.setup_notebook()"
SETUP_KO = 'helpers.setup_notebook(lang="ko")'
HEADER = {"Language": "ko", "MIME-Version": "1.0", "Content-Type": "text/plain; charset=UTF-8",
          "Content-Transfer-Encoding": "8bit", "Project-Id-Version": "dlwp-ch5"}


def course_notebooks():
    """The English course notebooks, in course order."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def catalog_path(notebook):
    """i18n/ko/NN_topic.po for notebooks/NN_topic.ipynb."""
    return CATALOGS / (Path(notebook).stem + ".po")


def without_figures(text):
    """Markdown with every named run figure reduced to its name: `<!--04-real.last-->`."""
    return run_figures.MARKED.sub(lambda m: f"<!--{m.group(1)}-->", text)


def prose_cells(nb):
    """The markdown cells a catalog translates: every one before the Exercises section but the Colab badge."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.id != BADGE:
            if cell.source.lstrip().startswith(EXERCISES):
                break
            cells.append(cell)
    return cells


def load(path):
    """A catalog, or a new empty one."""
    if Path(path).exists():
        try:
            return polib.pofile(str(path), wrapwidth=0)
        except (OSError, UnicodeDecodeError) as err:
            raise SystemExit(f"{err}: mend that line of the catalog (an unclosed quote?) or restore it with "
                             "git checkout, then run again.") from None
    po = polib.POFile(wrapwidth=0)
    po.metadata = dict(HEADER)
    return po


def english_changed(entry, english):
    """Give an entry its new English, keeping the old as previous_msgid and marking it fuzzy; True if it changed."""
    if entry.msgid == english:
        return False
    entry.previous_msgid, entry.msgid = entry.msgid, english
    if "fuzzy" not in entry.flags:
        entry.flags.append("fuzzy")
    return True


def update(notebook):
    """Bring a notebook's catalog in step with its English cells; return (new, changed, removed) counts."""
    nb = nbformat.read(notebook, as_version=4)
    po = load(catalog_path(notebook))
    by_id = {e.msgctxt: e for e in po}
    by_text = {e.msgid: e for e in po}
    entries, new, changed = [], 0, 0
    for cell in prose_cells(nb):
        english = without_figures(cell.source)
        entry = by_id.get(cell.id) or by_text.get(english)  # ids JupyterLab renewed: matched by the English
        if entry is None:
            entry = polib.POEntry(msgctxt=cell.id, msgid=english, msgstr="")
            new += 1
        else:
            changed += english_changed(entry, english)
        only = by_id.get(entry.msgctxt + KOREAN_ONLY)  # a Korean-only cell follows its cell, also to a new id
        entry.msgctxt = cell.id
        entries.append(entry)
        if only is not None:
            only.msgctxt = cell.id + KOREAN_ONLY
            entries.append(only)
    removed = len(po) - len([e for e in po if e in entries])
    out = polib.POFile(wrapwidth=0)
    out.metadata = po.metadata or dict(HEADER)
    out.extend(entries)
    CATALOGS.mkdir(parents=True, exist_ok=True)
    with replacing(catalog_path(notebook)) as tmp:
        out.save(str(tmp))
    return new, changed, removed


MESSAGES_PO = REPO / "helpers" / "locale" / "ko.po"
# The modules that register run-time messages with helpers.i18n (imported before the catalog is compared).
RUNTIME_MODULES = ["helpers.exercises", "helpers", "helpers.plots", "helpers.conv_figures", "helpers.widgets.conv",
                   "helpers.widgets.pool", "helpers.widgets.augment", "helpers.widgets.activations",
                   "helpers.training", "helpers.references", "helpers.speed", "helpers.saved_runs",
                   "helpers.predictions"]
EXERCISE_FIELDS = ("title", "kind", "prompt", "hint", "explanation")


def english_messages():
    """{key: English} of every text the course makes at run time in the learner's language: the exercises'
    messages (helpers.exercises.messages), each exercise's title, kind, prompt, hint and explanation, each
    notebook's introduction to its exercises."""
    import importlib

    from helpers import exercises, i18n

    for module in RUNTIME_MODULES:
        importlib.import_module(module)
    found = dict(i18n.MESSAGES)
    for ex in exercises.catalog():
        found.update({f"exercise.{ex.id}.{field}": getattr(ex, field) for field in EXERCISE_FIELDS})
    found.update({f"intro.{nb}": module.INTRO for nb, module in exercises.MODULES.items()})
    return found


def merge(po, english):
    """A catalog with one entry per key of `english`, in its order: kept, marked fuzzy where the English changed,
    new (untranslated); entries of keys that are gone are dropped. Returns (catalog, new, changed, removed)."""
    by_key = {e.msgctxt: e for e in po}
    out = polib.POFile(wrapwidth=0)
    out.header, out.metadata = po.header, po.metadata or dict(HEADER)
    new = changed = 0
    for key, text in english.items():
        entry = by_key.get(key)
        if entry is None:
            entry = polib.POEntry(msgctxt=key, msgid=text, msgstr="")
            new += 1
        else:
            changed += english_changed(entry, text)
        out.append(entry)
    return out, new, changed, len(set(by_key) - set(english))


def update_keyed(path, english):
    """Bring a catalog keyed by msgctxt in step with {key: English}; (new, changed, removed)."""
    po, *counts = merge(load(path), english)
    with replacing(path) as tmp:
        po.save(str(tmp))
    return counts


def update_messages():
    """Bring helpers/locale/ko.po in step with the English run-time texts; (new, changed, removed)."""
    return update_keyed(MESSAGES_PO, english_messages())


def update_map():
    """Bring i18n/ko/course_map.po in step with the English course map's labels; (new, changed, removed)."""
    return update_keyed(MAP_PO, course_map.labels())


def keyed_problems(path, english):
    """What is stale, untranslated, fuzzy or left over in a catalog keyed by msgctxt, against {key: English}."""
    if not path.exists():
        return [f"{path.relative_to(REPO)} is missing: python tools/korean.py update"]
    found = []
    for entry in load(path):
        if entry.msgctxt not in english:
            found.append(f"{entry.msgctxt}: its English is gone (python tools/korean.py update)")
        elif entry.msgid != english[entry.msgctxt]:
            found.append(f"{entry.msgctxt}: the English changed since it was translated (python tools/korean.py "
                         "update marks it fuzzy)")
        elif not entry.msgstr:
            found.append(f"{entry.msgctxt}: untranslated")
        elif "fuzzy" in entry.flags:
            found.append(f"{entry.msgctxt}: fuzzy (check the translation, then remove the flag)")
    missing = set(english) - {e.msgctxt for e in load(path)}
    found += [f"{key}: no entry (python tools/korean.py update)" for key in sorted(missing)]
    return [f"{path.relative_to(REPO)}: {p}" for p in found]


def message_problems():
    """What is stale, untranslated, fuzzy or left over in helpers/locale/ko.po."""
    return keyed_problems(MESSAGES_PO, english_messages())


def map_problems():
    """What is stale, untranslated, fuzzy or left over in i18n/ko/course_map.po, the course map's labels."""
    return keyed_problems(MAP_PO, course_map.labels())


def korean_map():
    """The Korean course map's SVG: the English map with the catalog's labels; ValueError while it has problems."""
    trouble = map_problems()
    if trouble:
        raise ValueError("\n".join(trouble))
    return course_map.relabeled({e.msgctxt: e.msgstr for e in load(MAP_PO)}, course_map.KOREAN_FONTS)


def draw_map():
    """Write assets/ko/course_map.svg from the English map and the catalog; draw it into assets/ko/course_map.png."""
    with replacing(MAP_SVG) as tmp:
        tmp.write_text(korean_map(), encoding="utf-8")
    course_map.render(MAP_SVG, MAP_PNG)


def problems(notebook):
    """What keeps a catalog from building its notebook: stale, untranslated, fuzzy or left-over entries."""
    nb = nbformat.read(notebook, as_version=4)
    path = catalog_path(notebook)
    if not path.exists():
        return [f"{path.relative_to(REPO)} is missing: python tools/korean.py update"]
    po = load(path)
    by_id = {e.msgctxt: e for e in po}
    found, cells = [], prose_cells(nb)
    for cell in cells:
        entry = by_id.get(cell.id)
        english = without_figures(cell.source)
        if entry is None:
            found.append(f"cell {cell.id}: no entry (python tools/korean.py update)")
        elif entry.msgid != english:
            diff = difflib.unified_diff(entry.msgid.splitlines(), english.splitlines(), "translated", "English now",
                                        lineterm="")
            found.append(f"cell {cell.id}: the English changed since it was translated:\n" + "\n".join(diff))
        elif not entry.msgstr:
            found.append(f"cell {cell.id}: untranslated")
        elif "fuzzy" in entry.flags:
            found.append(f"cell {cell.id}: fuzzy (check the translation, then remove the flag)")
    ids = {c.id for c in cells}
    extra = {key for key in by_id if key not in ids and key.removesuffix(KOREAN_ONLY) not in ids}
    found += [f"entry {key}: empty" for key in sorted(by_id) if key.endswith(KOREAN_ONLY) and not by_id[key].msgstr]
    found += [f"entry {key}: its cell is gone (python tools/korean.py update)" for key in sorted(extra)]
    return [f"{path.relative_to(REPO)}: {p}" for p in found]


def korean_links(text):
    """Links as seen from notebooks/ko/: one folder further up, an asset's Korean variant where assets/ko/ has one."""
    def target(m):
        path = m.group(1)
        if path.startswith("../assets/") and (KOREAN_ASSETS / path[len("../assets/"):]).exists():
            path = "../assets/ko/" + path[len("../assets/"):]
        return f"](../{path})"
    return re.sub(r"\]\((\.\./[^)\s]+)\)", target, text)


def korean_attachments(cell):
    """Give a markdown cell's PNG attachments their Korean variant where assets/ko/ has one (the course map)."""
    for name, bundle in cell.get("attachments", {}).items():
        if "image/png" in bundle and (KOREAN_ASSETS / name).exists():
            bundle["image/png"] = base64.b64encode((KOREAN_ASSETS / name).read_bytes()).decode()


def korean_notebook(notebook, runs=None):
    """The Korean notebook built from the English one and its catalog; ValueError while the catalog has problems."""
    trouble = problems(notebook)
    if trouble:
        raise ValueError("\n".join(trouble))
    runs = runs or run_figures.load_runs()
    nb = nbformat.read(notebook, as_version=4)
    korean = {e.msgctxt: e.msgstr for e in load(catalog_path(notebook))}
    prose = {cell.id for cell in prose_cells(nb)}
    setups = 0
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if cell.id in prose and cell.id + KOREAN_ONLY in korean:
            cells.append(nbformat.v4.new_markdown_cell(korean_links(korean[cell.id + KOREAN_ONLY]), id=f"{cell.id}-ko"))
    nb.cells = cells
    for cell in nb.cells:
        if cell.id in prose:
            cell.source = run_figures.render(korean_links(korean[cell.id]), runs)
        elif cell.cell_type == "markdown" and cell.id == BADGE:
            name = Path(notebook).name
            cell.source = cell.source.replace(f"/notebooks/{name}", f"/notebooks/ko/{name}")
        elif cell.cell_type == "markdown":
            cell.source = korean_links(cell.source)
        elif cell.cell_type == "code" and SETUP in cell.source.splitlines():
            cell.source = cell.source.replace(SETUP, SETUP_KO)
            setups += 1
        if cell.cell_type == "markdown":
            korean_attachments(cell)
    if setups != 1:
        raise ValueError(f"{notebook.name}: expected one set-up cell calling {SETUP}, found {setups}")
    start = exercise_cells.section_start(nb.cells)
    if start is not None:  # the Exercises section, written from the registry's Korean (helpers/locale/ko.po)
        with i18n.speaking("ko"):
            nb.cells = nb.cells[:start] + exercise_cells.section_cells(Path(notebook).name[:2])
    return nb


def solutions_path(number):
    """notebooks/ko/solutions/NN_topic_solutions.ipynb."""
    return KOREAN_SOLUTIONS / exercise_cells.solutions_path(number).name


def korean_solutions(number):
    """The Korean solutions notebook of notebook `number` ('02'), without outputs: the registry's Korean texts."""
    title = exercise_cells.notebook_title(number, KOREAN / exercises.MODULES[number].FILE)
    setup = colab_cells.SETUP_CELL_KO
    with i18n.speaking("ko"):
        return nbformat.v4.new_notebook(cells=exercise_cells.solutions_cells(number, title=title, setup=setup))


def sources(nb):
    """A notebook's cells as (type, source) pairs: what a rebuild must reproduce (outputs come from running it)."""
    return [(c.cell_type, c.source) for c in nb.cells]


def messages_digest():
    """A digest of helpers/locale/ko.po's Korean texts: the stored checks of a Korean solutions notebook print them."""
    texts = sorted((e.msgctxt, e.msgstr) for e in load(MESSAGES_PO))
    return hashlib.sha256(repr(texts).encode("utf-8")).hexdigest()[:16]


def build_solutions(execute=True):
    """Write notebooks/ko/solutions/; execute (quick profile, Korean) those whose cells or Korean texts changed."""
    digest = messages_digest()
    for number in exercises.MODULES:
        path, book = solutions_path(number), korean_solutions(number)
        if path.exists():
            stored = nbformat.read(path, as_version=4)
            if sources(stored) == sources(book) and stored.metadata.get(DIGEST_KEY) == digest:
                continue
        book.metadata[DIGEST_KEY] = digest  # the texts its stored outputs were made with
        nbtools.write(nbtools.strip(book), path)
        if execute:
            nbtools.refresh(path)


def build(notebooks):
    """Write notebooks/ko/ for every notebook whose catalog is complete; return the problems of the others."""
    found = []
    for notebook in notebooks:
        trouble = problems(notebook)
        if trouble:
            found += trouble
            continue
        with replacing(KOREAN / notebook.name) as tmp:
            nbformat.write(korean_notebook(notebook), tmp)
    return found


def main(argv):
    command = argv[0] if argv else "check"
    notebooks = course_notebooks()
    if command == "update":
        for notebook in notebooks:
            new, changed, removed = update(notebook)
            print(f"{catalog_path(notebook).relative_to(REPO)}: {new} new, {changed} changed, {removed} removed")
        for path, (new, changed, removed) in ((MESSAGES_PO, update_messages()), (MAP_PO, update_map())):
            print(f"{path.relative_to(REPO)}: {new} new, {changed} changed, {removed} removed")
        return 0
    if command == "check":
        found = [p for nb in notebooks for p in problems(nb)] + message_problems() + map_problems()
    elif command == "build":  # what can be built is; the rest is reported (run-time texts fall back to English)
        found = build(notebooks) + message_problems() + map_problems()
        build_solutions()
    elif command == "map":  # the Korean course map (needs Chromium); `build` then attaches it to notebook 00
        found = map_problems()
        if not found:
            draw_map()
            print(f"{MAP_PNG.relative_to(REPO)} drawn from {MAP_SVG.relative_to(REPO)}: now make ko")
    else:
        raise SystemExit(f"unknown command {command!r}: update, build, check or map")
    for problem in found:
        print(problem)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
