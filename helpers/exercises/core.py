"""The exercises' machinery: the Exercise record, feedback, the registry and the answer readers.

A checker takes the learner's answer and returns a Feedback; it reads the answer with the readers
below, which raise Unreadable with a one-line explanation when the answer is of the wrong kind.
"""
import contextlib
import io
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

CORRECT, WRONG, UNANSWERED, UNREADABLE = "correct", "wrong", "unanswered", "unreadable"
LABELS = {CORRECT: "Correct", WRONG: "Not yet", UNANSWERED: "Not answered yet", UNREADABLE: "Cannot check this"}

REGISTRY = {}


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer: a status and the message a learner reads."""

    status: str
    message: str

    @property
    def correct(self):
        """True when the answer is right."""
        return self.status == CORRECT


class Unreadable(Exception):
    """An answer of the wrong kind; its text says what to write instead."""


def right(message):
    """Feedback for a correct answer."""
    return Feedback(CORRECT, message)


def wrong(message):
    """Feedback for a wrong answer: what the answer reveals."""
    return Feedback(WRONG, message)


def unanswered(message):
    """Feedback for a placeholder the learner has not replaced yet."""
    return Feedback(UNANSWERED, message)


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


# ------------------------------------------------------------------------------------ answer readers

def is_placeholder(answer):
    """True for the `...` a learner's cell starts with."""
    return answer is Ellipsis


def describe(answer):
    """A short description of a value for messages: its repr, cut, and its type."""
    text = repr(answer)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{text} ({type(answer).__name__})"


def as_number(answer, what="a number"):
    """The answer as a float, or Unreadable saying why it is not a number."""
    if isinstance(answer, (bool, np.bool_)):
        raise Unreadable(f"{answer} is True/False; {what} is expected")
    if isinstance(answer, str):
        cleaned = answer.replace(",", "").replace("_", "").strip()
        try:
            float(cleaned)
        except ValueError:
            raise Unreadable(f"{answer!r} is text; {what} is expected, e.g. answer = 42") from None
        raise Unreadable(f"{answer!r} is text (in quotes): write the number itself, answer = {cleaned}")
    if isinstance(answer, numbers.Real) or (isinstance(answer, np.ndarray) and answer.ndim == 0
                                            and np.issubdtype(answer.dtype, np.number)):
        value = float(answer)
        if math.isnan(value):
            raise Unreadable(f"{answer!r} is not {what}")
        return value
    if isinstance(answer, (tuple, list, set, dict, np.ndarray)):
        raise Unreadable(f"{describe(answer)} holds several values; {what} is expected")
    raise Unreadable(f"{describe(answer)} is not {what}")


def as_int(answer, what="a whole number"):
    """The answer as an int, or Unreadable (text, fractions, collections)."""
    value = as_number(answer, what)
    if math.isinf(value) or value != int(value):
        raise Unreadable(f"{answer!r} is not a whole number; {what} is expected")
    return int(value)


def as_int_tuple(answer, length, what):
    """The answer as a tuple of `length` ints, or Unreadable."""
    if isinstance(answer, str) or not hasattr(answer, "__len__"):
        raise Unreadable(f"{describe(answer)} is not {what}")
    items = list(answer)
    if len(items) != length:
        raise Unreadable(f"{describe(answer)} has {len(items)} values; {what} has {length}")
    return tuple(as_int(v, f"each value of {what} a whole number") for v in items)


def as_shape(answer, ndim):
    """A shape tuple of ndim positive ints; a leading None (the batch axis) is dropped."""
    example = "(height, width, depth)" if ndim == 3 else "(height, width)"
    if isinstance(answer, np.ndarray) and answer.ndim > 1:
        raise Unreadable(f"this is an array of shape {answer.shape}, not a shape: write a tuple like {example}")
    if isinstance(answer, (numbers.Number, str)) or not hasattr(answer, "__len__"):
        raise Unreadable(f"{describe(answer)} is not a shape: write a tuple like {example}")
    items = list(answer)
    if len(items) == ndim + 1 and items[0] is None:
        items = items[1:]  # the batch axis is fine
    if any(v is None for v in items):
        raise Unreadable(f"{tuple(items)} has None in it: every size here is known, write numbers")
    if len(items) != ndim:
        raise Unreadable(f"{tuple(items)} has {len(items)} axes; the answer has {ndim}: {example}")
    shape = tuple(as_int(v, "each size a whole number") for v in items)
    if min(shape) < 1:
        raise Unreadable(f"{shape}: sizes are positive numbers")
    return shape


def as_array(answer, ndim=None, what="an array"):
    """The answer as a float64 NumPy array (optionally of ndim axes), or Unreadable."""
    if isinstance(answer, (str, dict, set)) or answer is None:
        raise Unreadable(f"{describe(answer)} is not {what}: write a NumPy array or nested lists of numbers")
    try:
        arr = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        raise Unreadable(f"{describe(answer)} cannot be read as {what} of numbers "
                         "(are all rows the same length?)") from None
    if ndim is not None and arr.ndim != ndim:
        raise Unreadable(f"the answer has {arr.ndim} axes (shape {arr.shape}); {what} with {ndim} is expected")
    if not np.all(np.isfinite(arr)):
        raise Unreadable("the answer holds NaN or infinite values")
    return arr


def as_choices(answer, options, many=False):
    """Letters chosen among options ('a', 'b', ...): one letter, or a set of them when many=True."""
    letters = sorted(options)
    listed = ", ".join(f"'{k}'" for k in letters)
    if isinstance(answer, str):
        picked = [c.lower() for c in answer if c.isalpha()]
    elif isinstance(answer, (list, tuple, set, frozenset)) and all(isinstance(a, str) for a in answer):
        picked = [a.strip("() ").lower() for a in answer]
    else:
        raise Unreadable(f"{describe(answer)} is not a choice: answer with a letter in quotes, one of {listed}")
    unknown = [p for p in picked if p not in options]
    if unknown or not picked:
        raise Unreadable(f"choose among {listed}; got {answer!r}")
    if not many and len(set(picked)) > 1:
        raise Unreadable(f"pick one letter: {answer!r} names {len(set(picked))}")
    return set(picked) if many else picked[0]


def judge_choice(answer, options, correct, explanation, mistakes):
    """Feedback for one letter among options: right with the explanation, or what the chosen letter gets wrong."""
    choice = as_choices(answer, options)
    return right(explanation) if choice == correct else wrong(mistakes[choice])


def as_callable(answer, name):
    """The function itself, or Unreadable when the answer is a value (e.g. its result)."""
    if not callable(answer):
        raise Unreadable(f"{describe(answer)} is not a function: pass the function itself, "
                         f"{name}, not {name}(...)")
    return answer


def call(fn, *args):
    """(result, None) from fn(*args), or (None, why) when the learner's function raised."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return fn(*(a.copy() if isinstance(a, np.ndarray) else a for a in args)), None
    except Exception as exc:  # the learner's code: any error is feedback
        return None, f"{type(exc).__name__}: {str(exc)[:200]}"


def same(a, b, tol=1e-6):
    """True when two numbers (or arrays of one shape) agree within a relative tolerance."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=tol, atol=tol))


def first_match(value, mistakes, tol=1e-6):
    """The message of the first (candidate, message) pair whose candidate equals value, or None."""
    for candidate, message in mistakes:
        if candidate is not None and same(value, candidate, tol):
            return message
    return None


def judge_number(value, truth, correct, mistakes, unit="", tol=1e-6):
    """Feedback for a number: correct, a known mistake, or too high / too low."""
    if same(value, truth, tol):
        return right(correct)
    found = first_match(value, mistakes, tol)
    if found:
        return wrong(found)
    direction = "too high" if value > truth else "too low"
    return wrong(f"{value:,g}{unit} is {direction}, and not one of the usual slips: redo the computation step by step.")


def judge_shape(shape, truth, correct, mistakes, names=("height", "width", "depth")):
    """Feedback for a shape: correct, a known mistake, or which axes are off."""
    if shape == truth:
        return right(correct)
    found = first_match(shape, mistakes)
    if found:
        return wrong(found)
    if sorted(shape) == sorted(truth):
        return wrong(f"{shape} has the right sizes in the wrong order: Keras writes (height, width, channels).")
    off = [f"{n} {s} (should be {'larger' if t > s else 'smaller'})" for n, s, t in zip(names, shape, truth) if s != t]
    return wrong(f"{shape}: {', '.join(off)}; the other axes are right.")


def as_text(answer):
    """A free-text answer as a stripped string, or Unreadable."""
    if not isinstance(answer, str):
        raise Unreadable(f"{describe(answer)} is not text: write a sentence or two in quotes, answer = \"...\"")
    if len(answer.split()) < 3:
        raise Unreadable("write a sentence or two: a few words are not enough to compare with the model answer")
    return answer.strip()


def judge_text(text, ideas, model_answer):
    """Feedback on free text: which key ideas (each a name and words that show it) it names, then the model answer."""
    lowered = text.lower()
    missing = [name for name, words in ideas if not any(w in lowered for w in words)]
    if not missing:
        return right(f"your answer names {' and '.join(name for name, _ in ideas)}. Model answer: {model_answer}")
    return wrong(f"your answer does not seem to mention {' nor '.join(missing)}. Model answer: {model_answer}")


def judge(ex_id, checker, answer):
    """Run a checker on an answer without ever raising: placeholder, None and odd values get a message."""
    if is_placeholder(answer):
        return unanswered("replace the `...` with your answer, then run the cell again.")
    if answer is None:
        return Feedback(UNREADABLE, "the answer is None. Did you assign the result of print() or of a "
                                    "function without `return`? Write the value itself.")
    try:
        return checker(answer)
    except Unreadable as why:
        return Feedback(UNREADABLE, f"{why}.")
    except Exception as exc:  # a checker must never stop a learner's notebook
        return Feedback(UNREADABLE, f"this answer could not be checked ({type(exc).__name__}: {str(exc)[:200]}). "
                                    "Compare its form with the one the exercise asks for.")
