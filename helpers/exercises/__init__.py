"""Exercises at the end of notebooks 01-08: check an answer on the spot, ask for a hint or the worked solution.

    from helpers import exercises
    exercises.show("01")               # the notebook's exercises
    exercises.check("01.1", answer)    # what the answer shows: correct, or what went wrong
    exercises.hint("01.1")             # a nudge
    exercises.solution("01.1")         # the worked solution (also in notebooks/solutions/)
"""
import re
import textwrap

from . import (
    augmentation,
    baseline,
    convolution,
    dataset,
    dropout,
    first_convnet,  # noqa: F401 (registers notebook 01's exercises on the first convnet)
    pipeline,
    pooling,
    visualizing,
)
from .core import CORRECT, REGISTRY, UNANSWERED, UNREADABLE, WRONG, Feedback, judge, run_solution, unreadable
from .messages import MESSAGES, local, say

__all__ = ["CORRECT", "MESSAGES", "UNANSWERED", "UNREADABLE", "WRONG", "Feedback", "catalog", "check",
           "example_answer", "feedback", "hint", "material", "show", "solution", "text"]

MODULES = {m.NOTEBOOK: m for m in (convolution, pooling, dataset, baseline, augmentation, dropout, visualizing,
                                   pipeline)}


def text(ex, field):
    """An exercise's title, kind, prompt, hint or explanation in the current language (COURSE_LANG)."""
    return local(f"exercise.{ex.id}.{field}", getattr(ex, field))


def intro(notebook):
    """The introduction of a notebook's Exercises section in the current language."""
    return local(f"intro.{notebook}", MODULES[notebook].INTRO)


def normalize_id(exercise_id):
    """'01.2' from '01.2', '1.2' or 1.2; None when it does not look like an exercise id."""
    match = re.fullmatch(r"\s*(\d{1,2})\.(\d{1,2})\s*", str(exercise_id))
    return f"{int(match[1]):02d}.{int(match[2])}" if match else None


def _lookup(exercise_id):
    """(exercise, None) or (None, a Feedback whose message says which ids exist)."""
    key = normalize_id(exercise_id)
    if key in REGISTRY:
        return REGISTRY[key], None
    notebook = key.split(".")[0] if key else None
    ids = [e.id for e in catalog(notebook)] if notebook and catalog(notebook) else None
    known = (say("check.known_ids", notebook=notebook, ids=", ".join(ids)) if ids
             else say("check.id_form", notebooks=", ".join(MODULES)))
    return None, unreadable("check.no_exercise", given=repr(exercise_id), known=known)


def catalog(notebook=None):
    """All exercises (or one notebook's, '01'), in order."""
    found = [e for e in REGISTRY.values() if notebook is None or e.notebook == f"{int(notebook):02d}"]
    return sorted(found, key=lambda e: tuple(int(p) for p in e.id.split(".")))


def feedback(exercise_id, answer):
    """The Feedback on an answer (what check prints), for code and tests."""
    ex, missing = _lookup(exercise_id)
    if ex is None:
        return missing
    return judge(ex.id, ex.checker, answer)


def check(exercise_id, answer):
    """Check an answer and print what it shows: correct, or what went wrong and where to look."""
    ex, missing = _lookup(exercise_id)
    if ex is None:
        print(missing.message)
        return
    result = judge(ex.id, ex.checker, answer)
    stuck = result.status in (WRONG, UNREADABLE)
    text = say("check.line_stuck" if stuck else "check.line", id=ex.id, label=say(f"label.{result.status}"),
               message=result.message)
    print(textwrap.fill(text, width=100, break_long_words=False, break_on_hyphens=False))


def hint(exercise_id):
    """Print an exercise's hint."""
    ex, missing = _lookup(exercise_id)
    print(missing.message if ex is None else textwrap.fill(say("check.hint", id=ex.id, hint=text(ex, "hint")),
                                                          width=100))


def solution(exercise_id):
    """Print the worked solution: why, then the code (notebooks/solutions/ runs the same code)."""
    ex, missing = _lookup(exercise_id)
    if ex is None:
        print(missing.message)
        return
    plain = text(ex, "explanation").replace("**", "")  # markdown emphasis, noise in printed text
    why = "\n\n".join(textwrap.fill(p, width=100) for p in plain.split("\n\n"))
    head = say("check.solution_head", id=ex.id, title=text(ex, "title"))
    print(f"{head}\n\n{why}\n\n{textwrap.indent(ex.solution_code, '    ')}")


def material(exercise_id):
    """What an exercise gives you to work on (a history, a feature map), or None with a message."""
    ex, missing = _lookup(exercise_id)
    if ex is None or ex.material is None:
        print(missing.message if missing else say("check.no_material", id=ex.id))
        return None
    return ex.material()


def example_answer(exercise_id):
    """A correct answer: what the worked solution's code produces."""
    ex, missing = _lookup(exercise_id)
    if ex is None:
        raise KeyError(missing.message)
    return run_solution(ex, MODULES[ex.notebook].IMPORTS)


def show(notebook):
    """Print a notebook's exercises and how to check them."""
    found = catalog(notebook)
    if not found:
        print(say("check.no_notebook", notebook=repr(notebook), notebooks=", ".join(MODULES)))
        return
    print(say("check.show_head", notebook=found[0].notebook))
    for ex in found:
        print(f"  {ex.id}  {text(ex, 'title')} ({text(ex, 'kind')})")
    print(say("check.show_tail", id=found[0].id))
