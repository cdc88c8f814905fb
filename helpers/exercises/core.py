"""The exercises' machinery: the Exercise record and its registry, feedback, and judging a number or a shape.

A checker takes the learner's answer and returns a Feedback; it reads the answer with the readers of
exercises.answers, which raise Unreadable with a one-line explanation when the answer is of the wrong kind.
Every message is a template named by its key (exercises.messages).
"""
import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .messages import num, say

CORRECT, WRONG, UNANSWERED, UNREADABLE = "correct", "wrong", "unanswered", "unreadable"
ANGLE_TOLERANCE = 0.2  # degrees: how close an angle must be, in every exercise that asks for one (05.3, 08.1)

REGISTRY = {}


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer: a status, the message a learner reads, and the message's key."""

    status: str
    message: str
    key: str = ""

    @property
    def correct(self):
        """True when the answer is right."""
        return self.status == CORRECT


class Unreadable(Exception):
    """An answer of the wrong kind; its text (the message `key`) says what to write instead."""

    def __init__(self, key, **fields):
        super().__init__(say(key, **fields))
        self.key = key


def right(key, **fields):
    """Feedback for a correct answer."""
    return Feedback(CORRECT, say(key, **fields), key)


def wrong(key, **fields):
    """Feedback for a wrong answer: what the answer reveals."""
    return Feedback(WRONG, say(key, **fields), key)


def unanswered(key, **fields):
    """Feedback for a placeholder the learner has not replaced yet."""
    return Feedback(UNANSWERED, say(key, **fields), key)


def unreadable(key, **fields):
    """Feedback for an answer of the wrong kind."""
    return Feedback(UNREADABLE, say(key, **fields), key)


def and_list(items):
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    return items[0] if len(items) == 1 else say("list.and", first=", ".join(items[:-1]), last=items[-1])


@dataclass(frozen=True)
class Exercise:
    """One exercise: prompt, hint, worked solution (code that sets `name`) and checker."""

    id: str  # "01.2": notebook 01, exercise 2
    title: str
    kind: str  # what the answer is: number, shape, array, choice, function, keras object, ...
    prompt: str  # markdown, shown in the notebook
    hint: str
    explanation: str  # markdown: why the answer is what it is
    solution_code: str  # Python that sets `name` to a correct answer
    checker: Callable[[Any], Feedback]
    starter: str = "answer = ...  # your answer"  # the learner's cell, before the check call
    name: str = "answer"  # the variable (or function) the cell passes to check
    material: Callable[[], Any] | None = None  # what the exercise gives, as exercises.material(id)

    @property
    def notebook(self):
        """The notebook number, '01'."""
        return self.id.split(".")[0]

    def check_call(self):
        """The line a notebook cell ends with."""
        return f'exercises.check("{self.id}", {self.name})'


def register(exercise):
    """Add an exercise to the registry; ids are unique."""
    if exercise.id in REGISTRY:
        raise ValueError(f"exercise {exercise.id} is registered twice")
    REGISTRY[exercise.id] = exercise
    return exercise


def exercise(**fields):
    """Build and register an Exercise from keyword fields."""
    return register(Exercise(**fields))


def run_solution(ex, imports):
    """Execute an exercise's worked solution after its notebook's imports; the answer it defines."""
    namespace = {}
    exec(compile(f"{imports}\n{ex.solution_code}", f"<solution {ex.id}>", "exec"), namespace)  # our own code
    return namespace[ex.name]


def quietly(fn, *args, **kwargs):
    """Call fn with stdout silenced (Keras' 'Found N images' lines); its result."""
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args, **kwargs)


def is_placeholder(answer):
    """True for the `...` a learner's cell starts with."""
    return answer is Ellipsis


def same(a, b, tol=1e-6):
    """True when two numbers (or arrays of one shape) agree within a tolerance; tol=0 means exactly."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    return bool(np.array_equal(a, b)) if tol == 0 else bool(np.allclose(a, b, rtol=tol, atol=tol))


def first_match(value, mistakes, tol=0):
    """The key of the first (candidate, key) pair whose candidate equals value (exactly, by default), or None."""
    for candidate, key in mistakes:
        if candidate is not None and same(value, candidate, tol):
            return key
    return None


def judge_number(value, truth, correct_key, mistakes, fields=None, unit="", tol=0):
    """Feedback for a number: correct, a known mistake, or too high / too low. Counts are exact (tol=0)."""
    fields = fields or {}
    if same(value, truth, tol):
        return right(correct_key, **fields)
    found = first_match(value, mistakes, tol)
    if found:
        return wrong(found, **fields)
    return wrong("core.too_high" if value > truth else "core.too_low", value=num(value),
                 unit=say(unit) if unit else "")


def judge_shape(shape, truth, correct_key, mistakes, fields=None, axes=("height", "width", "depth")):
    """Feedback for a shape: correct, a known mistake, or which axes are off and which are right."""
    fields = fields or {}
    if shape == truth:
        return right(correct_key, **fields)
    found = first_match(shape, mistakes)
    if found:
        return wrong(found, **fields)
    names = [say(f"axis.{a}") for a in axes]
    if sorted(shape) == sorted(truth):
        return wrong("shape.order", shape=shape, example=f"({', '.join(names)})")
    off = [say("shape.larger" if t > s else "shape.smaller", axis=n, size=s)
           for n, s, t in zip(names, shape, truth) if s != t]
    good = [n for n, s, t in zip(names, shape, truth) if s == t]
    if not good:
        return wrong("shape.all_off", shape=shape, off=", ".join(off))
    return wrong("shape.some_off_one" if len(good) == 1 else "shape.some_off_many", shape=shape,
                 off=", ".join(off), right=and_list(good))


def judge(ex_id, checker, answer):
    """Run a checker on an answer without ever raising: placeholder, None and odd values get a message."""
    if is_placeholder(answer):
        return unanswered("core.placeholder")
    if answer is None:
        return unreadable("core.none")
    try:
        return checker(answer)
    except Unreadable as why:
        return Feedback(UNREADABLE, f"{why}.", why.key)
    except Exception as exc:  # a checker must never stop a learner's notebook
        return unreadable("core.checker_error", error=f"{type(exc).__name__}: {str(exc)[:200]}")
