"""The Korean edition cannot drift: notebooks/ko/ is built from the English notebooks and i18n/ko/*.po.

`pytest -k korean` runs these (the build is tools/korean.py). Every English prose cell has a current, finished
translation; the committed Korean notebooks equal a fresh build; their code cells are the English ones (the set-up
cell selects Korean); a translation keeps its cell's code spans, links, maths, figure names and table shape.
"""
import re
import sys
from collections import Counter
from pathlib import Path

import nbformat
import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import korean  # noqa: E402

NOTEBOOKS = korean.course_notebooks()
# What a translation keeps as it is: inline code, link and image targets, maths, named figures, HTML tags.
KEPT = {
    "code span": re.compile(r"`[^`\n]+`"),
    "link target": re.compile(r"\]\(([^)\s]+)\)"),
    "maths": re.compile(r"\$[^$\n]+\$"),
    "figure name": re.compile(r"<!--[\w.:-]+-->"),
    "HTML tag": re.compile(r"</?[a-z]+[^>]*>"),
}


def entries(notebook):
    return list(polib.pofile(str(korean.catalog_path(notebook)), wrapwidth=0))


def table_shape(text):
    """Rows and cells of every Markdown table in text."""
    return [line.count("|") for line in text.splitlines() if line.lstrip().startswith("|")]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_korean_catalog_translates_every_current_english_cell(notebook):
    found = korean.problems(notebook)
    assert not found, "\n".join(found) + "\n(translate in i18n/ko/, then `make ko`)"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_korean_notebook_is_a_fresh_build(notebook):
    committed = korean.KOREAN / notebook.name
    assert committed.exists(), f"{committed.relative_to(ROOT)} is missing: make ko"
    built = korean.korean_notebook(notebook)
    assert nbformat.read(committed, as_version=4) == built, f"{committed.relative_to(ROOT)} is stale: make ko"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_korean_code_cells_are_the_english_ones_but_the_set_up(notebook):
    english = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    ko = [c for c in nbformat.read(korean.KOREAN / notebook.name, as_version=4).cells if c.cell_type == "code"]
    assert len(english) == len(ko)
    differ = [(e.source, k.source) for e, k in zip(english, ko, strict=True) if e.source != k.source]
    assert differ == [(s, s.replace(korean.SETUP, korean.SETUP_KO)) for s, _ in differ] and len(differ) == 1


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_korean_translation_keeps_code_links_maths_figures_and_tables(notebook):
    wrong = []
    for entry in entries(notebook):
        if not entry.msgstr or entry.msgctxt.endswith(korean.KOREAN_ONLY):
            continue
        for what, pattern in KEPT.items():
            if Counter(pattern.findall(entry.msgid)) != Counter(pattern.findall(entry.msgstr)):
                missing = Counter(pattern.findall(entry.msgid)) - Counter(pattern.findall(entry.msgstr))
                extra = Counter(pattern.findall(entry.msgstr)) - Counter(pattern.findall(entry.msgid))
                wrong.append(f"{entry.msgctxt}: {what} missing {sorted(missing)}, added {sorted(extra)}")
        if table_shape(entry.msgid) != table_shape(entry.msgstr):
            wrong.append(f"{entry.msgctxt}: the table's rows and columns differ")
        if re.search(r"(?m)^\s*<!--", entry.msgstr):
            wrong.append(f"{entry.msgctxt}: a line starts with <!--, which CommonMark shows as raw HTML")
        if len(re.findall(r"(?m)^#+ ", entry.msgid)) != len(re.findall(r"(?m)^#+ ", entry.msgstr)):
            wrong.append(f"{entry.msgctxt}: a different number of headings")
    assert not wrong, "\n".join(wrong)


def test_korean_catalog_notices_a_changed_english_cell_and_prints_the_diff(tmp_path):
    notebook = NOTEBOOKS[2]
    nb = nbformat.read(notebook, as_version=4)
    cell = korean.prose_cells(nb)[1]
    cell.source = cell.source.replace(".", ". Something new.", 1)
    changed = tmp_path / notebook.name
    nbformat.write(nb, changed)
    (found,) = korean.problems(changed)
    assert f"cell {cell.id}: the English changed since it was translated" in found
    assert "+" in found and "Something new." in found
    with pytest.raises(ValueError, match="the English changed"):  # the build refuses what the check refuses
        korean.korean_notebook(changed)


def test_korean_run_time_texts_are_all_translated_and_current():
    found = korean.message_problems()
    assert not found, "\n".join(found[:20]) + "\n(translate in helpers/locale/ko.po: python tools/korean.py update)"


def fields(template):
    """The str.format fields of a template, with their repeats (doubled braces are literal)."""
    return Counter(re.findall(r"\{[^{}]*\}", re.sub(r"\{\{|\}\}", "", template)))


def test_korean_run_time_texts_keep_fields_code_and_choices():
    wrong = []
    for entry in polib.pofile(str(korean.MESSAGES_PO), wrapwidth=0):
        english, ko = entry.msgid, entry.msgstr
        if fields(english) != fields(ko):
            wrong.append(f"{entry.msgctxt}: fields {sorted(fields(english))} in English, {sorted(fields(ko))} in "
                         "Korean")
        for pattern in (KEPT["code span"], re.compile(r"\*\*[a-d]\*\*")):
            if Counter(pattern.findall(english)) != Counter(pattern.findall(ko)):
                wrong.append(f"{entry.msgctxt}: {pattern.pattern} differs")
        has_words = re.search("[A-Za-z]{2,}", re.sub(r"\{[^{}]*\}|`[^`]*`", "", english))
        if has_words and ko == english:
            wrong.append(f"{entry.msgctxt}: the Korean is the English")
        if english.startswith(" ") != ko.startswith(" "):
            wrong.append(f"{entry.msgctxt}: a leading space (a unit) is lost or added")
    assert not wrong, "\n".join(wrong)


def test_korean_language_is_chosen_by_course_lang_only(monkeypatch):
    from helpers import config
    from helpers.exercises import messages

    monkeypatch.setenv("COURSE_LANG", "ko")
    assert messages.say("label.correct") == korean.load(korean.MESSAGES_PO).find(
        "Correct", msgctxt="label.correct").msgstr
    monkeypatch.setenv("COURSE_LANG", "en")
    assert messages.say("label.correct") == "Correct"
    monkeypatch.setenv("COURSE_LANG", "fr")
    with pytest.raises(ValueError, match="COURSE_LANG=en or COURSE_LANG=ko"):
        config.language()


@pytest.mark.parametrize("number", list(korean.exercises.MODULES))
def test_korean_solutions_notebook_is_a_fresh_build_and_checks_every_answer(number):
    path = korean.solutions_path(number)
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: make ko"
    book = nbformat.read(path, as_version=4)
    assert korean.sources(book) == korean.sources(korean.korean_solutions(number)), f"{path.name} is stale: make ko"
    assert book.metadata.get(korean.DIGEST_KEY) == korean.messages_digest(), (
        f"{path.name}: its stored checks were printed with other Korean texts than helpers/locale/ko.po's: make ko")
    with korean.i18n.speaking("ko"):
        correct = korean.i18n.say("label.correct")
    for ex in korean.exercises.catalog(number):
        cell = next(c for c in book.cells if c.cell_type == "code" and ex.check_call() in c.source)
        text = "".join(out.get("text", "") for out in cell.outputs)
        assert f"[{ex.id}] {correct}: " in text, f"{path.name}: the stored check of {ex.id} is not a Korean 'correct'"
    outputs = [str(out) for c in book.cells if c.cell_type == "code" for out in c.outputs]
    assert not [o for o in outputs if "Glyph" in o], f"{path.name}: a figure misses glyphs (Hangul font?)"


KOREAN_NOTEBOOKS = sorted(korean.KOREAN.glob("*.ipynb")) + sorted(korean.KOREAN_SOLUTIONS.glob("*.ipynb"))


@pytest.mark.parametrize("path", KOREAN_NOTEBOOKS,
                         ids=lambda p: p.name[:2] + ("s" if p.parent.name == "solutions" else ""))
def test_korean_notebook_hygiene(path):
    """The house rules of tests/test_notebook_hygiene.py hold for the Korean notebooks too."""
    import test_notebook_hygiene

    test_notebook_hygiene.test_notebook_hygiene(path)


def test_korean_start_page_adds_the_common_misreadings_after_what_changed():
    cells = nbformat.read(korean.KOREAN / "00_start_here.ipynb", as_version=4).cells
    (at,) = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and "## Keras 3에서 바뀐 점" in c.source]
    after = cells[at + 1]
    assert after.id.endswith("-ko") and after.source.startswith("## ")
    for topic in ("MaxPooling2D", "Flatten", "fill_mode='reflect'", "fill_mode='wrap'", "ImageDataGenerator"):
        assert topic in after.source, topic
    english = nbformat.read(korean.NOTEBOOKS / "00_start_here.ipynb", as_version=4).cells
    assert len(cells) == len(english) + 1  # the one Korean-only cell


def test_korean_notebooks_show_the_korean_figures_where_there_are_some():
    variants = sorted(p.name for p in (ROOT / "assets" / "ko").glob("*.png"))
    assert {"01_reference_digits.png", "04_reference_real.png", "06_reference_real.png"} <= set(variants)
    assert all((ROOT / "assets" / name).exists() for name in variants), "assets/ko/ holds variants of assets/ only"
    cells = [c for path in sorted(korean.KOREAN.glob("*.ipynb")) for c in nbformat.read(path, as_version=4).cells
             if c.cell_type == "markdown"]
    linked = "".join(c.source for c in cells)
    attached = {name for c in cells for name in c.get("attachments", {})}
    for name in sorted(set(variants) - attached):  # an attached one (the course map): tests/test_course_map.py
        assert f"../../assets/ko/{name}" in linked and f"../../assets/{name})" not in linked, name


def test_korean_update_follows_a_cell_id_jupyterlab_renewed(tmp_path, monkeypatch):
    """A renewed cell id is matched by its English: the translation and Korean-only cell move to the new id."""
    english = korean.NOTEBOOKS / "00_start_here.ipynb"
    po = korean.load(korean.catalog_path(english))
    only = next(e for e in po if e.msgctxt.endswith(korean.KOREAN_ONLY))
    old_id = only.msgctxt[:-len(korean.KOREAN_ONLY)]
    nb = nbformat.read(english, as_version=4)
    next(c for c in nb.cells if c.id == old_id).id = "renewed-id"
    copy = tmp_path / english.name
    nbformat.write(nb, copy)
    monkeypatch.setattr(korean, "CATALOGS", tmp_path / "i18n")
    (tmp_path / "i18n").mkdir()
    po.save(str(korean.catalog_path(copy)))
    assert korean.update(copy) == (0, 0, 0)
    moved = {e.msgctxt: e.msgstr for e in korean.load(korean.catalog_path(copy))}
    assert old_id not in moved and old_id + korean.KOREAN_ONLY not in moved
    assert moved["renewed-id"] == po.find(old_id, by="msgctxt").msgstr
    assert moved["renewed-id" + korean.KOREAN_ONLY] == only.msgstr
    assert korean.problems(copy) == []


def test_korean_reference_grad_cam_titles_say_the_classes_in_korean():
    """Notebook 07's reference Grad-CAM rows: the notebook's English title, and the Korean edition's."""
    sys.path.insert(0, str(ROOT))
    from benchmarks import reference_figures_07 as figures

    assert figures.row_title("cat", 0.02) == "cat: P(dog)=0.02, says cat"
    assert figures.row_title("dog", 0.956) == "dog: P(dog)=0.96, says dog"
    assert figures.row_title("dog", 0.956, "ko") == "강아지: P(dog)=0.96, 예측 강아지"
    assert figures.row_title("cat", 0.5, "ko") == "고양이: P(dog)=0.50, 예측 강아지"


def test_korean_broken_catalog_stops_in_one_line_or_falls_back_to_english(tmp_path, monkeypatch, capsys):
    """A hand edit that breaks a .po file: the tools stop with the line to mend; the course goes on in English."""
    broken = tmp_path / "ko.po"
    broken.write_text(korean.MESSAGES_PO.read_text(encoding="utf-8") + '\nmsgid "x\nbroken\n', encoding="utf-8")
    with pytest.raises(SystemExit) as stop:
        korean.load(broken)
    assert "Syntax error" in str(stop.value) and "mend that line" in str(stop.value)
    i18n = korean.i18n
    monkeypatch.setattr(i18n, "LOCALE", tmp_path)
    i18n.locale_catalog.cache_clear()
    try:
        with i18n.speaking("ko"):
            assert i18n.say("label.correct") == i18n.MESSAGES["label.correct"]  # the English text
        assert capsys.readouterr().err.count("\n") == 1
    finally:
        monkeypatch.undo()
        i18n.locale_catalog.cache_clear()
    with i18n.speaking("ko"):  # the real catalog again
        assert i18n.say("label.correct") != i18n.MESSAGES["label.correct"]
