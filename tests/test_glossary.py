"""Notebook 00's glossary: every term's Korean name is in the notebook and section the table names."""
import re
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
# Key terms of the Korean study notes the course grew from: each must have a row.
STUDY_NOTES = ("합성곱 신경망", "컨브넷", "합성곱층", "풀링층", "특성 맵", "채널", "필터", "패치", "윈도우",
               "패딩", "스트라이드", "최대 풀링", "다운샘플링", "평행 이동 불변성", "공간적 계층 구조", "지역 패턴",
               "전역 패턴", "과대적합", "일반화", "데이터 증식", "드롭아웃", "가중치 감소 (L2 규제)", "제너레이터",
               "에포크", "배치", "경사 하강법", "전단 변환")


def glossary_rows():
    """(english, [korean names], notebook number, section) for each row of notebook 00's glossary table."""
    nb = nbformat.read(NOTEBOOKS / "00_start_here.ipynb", as_version=4)
    cell = [c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## Key terms")]
    assert len(cell) == 1, "notebook 00 has one glossary cell"
    rows = []
    for line in cell[0].source.splitlines():
        match = re.fullmatch(r"\| (.+?) \| (.+?) \| (\d\d), (.+?) \|", line)
        if match:
            english, korean, number, section = match.groups()
            names = [korean] if "(" in korean else korean.split(", ")
            rows.append((english, names, number, section))
    return rows


def markdown_of(number):
    """The markdown cells of notebook NN."""
    path = next(NOTEBOOKS.glob(f"{number}_*.ipynb"))
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]


def section_text(cells, title):
    """The markdown under the heading that starts with title, up to the next heading (it may span cells)."""
    found, inside = [], False
    for source in cells:
        for line in source.splitlines():
            if line.startswith("#"):
                inside = line.lstrip("#").strip().startswith(title)
            if inside:
                found.append(line)
    return ["\n".join(found)] if found else []


def test_every_study_note_term_has_a_row():
    names = {name for _, korean, _, _ in glossary_rows() for name in korean}
    assert not set(STUDY_NOTES) - names, f"missing from the glossary: {sorted(set(STUDY_NOTES) - names)}"


def test_each_korean_name_is_in_the_section_the_glossary_names():
    for english, korean, number, section in glossary_rows():
        cells = markdown_of(number)
        if section == "introduction":
            where = [cells[1]]  # the cell after the Colab badge: title and introduction
        else:
            where = section_text(cells, section.split(" (")[0])
            assert where, f"{english}: notebook {number} has no section {section!r}"
        for name in korean:
            assert any(name in c for c in where), f"{english}: {name!r} is not in notebook {number}, {section}"
