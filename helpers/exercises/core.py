"""The exercises' machinery: the Exercise record, feedback, the message catalogue, the registry and the answer readers.

A checker takes the learner's answer and returns a Feedback; it reads the answer with the readers
below, which raise Unreadable with a one-line explanation when the answer is of the wrong kind.

Every message a learner reads is a template with a stable key ("01.1.valid", "read.number.text", ...),
registered with `messages()`; checkers name the key and fill in the fields. A translation is a dict of
the same keys (`translate()`), so a check reads the same in every language and tests can name the
message they expect by its key.
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
ANGLE_TOLERANCE = 0.2  # degrees: how close an angle must be, in every exercise that asks for one (05.3, 08.1)

REGISTRY = {}
MESSAGES = {}  # key -> English template (str.format fields)
TRANSLATIONS = {}  # language -> {key: template}; missing keys fall back to English
LANGUAGE = ["en"]  # the language messages are rendered in (a one-item list: settable from anywhere)


def messages(table):
    """Register English message templates by key; keys are unique across the course. Returns the table."""
    for key, template in table.items():
        if key in MESSAGES:
            raise ValueError(f"message {key} is registered twice")
        MESSAGES[key] = template
    return table


def translate(language, table):
    """Add (or extend) a translation: templates with the same keys and fields as the English ones."""
    unknown = sorted(set(table) - set(MESSAGES))
    if unknown:
        raise KeyError(f"no English message for {', '.join(unknown)}")
    TRANSLATIONS.setdefault(language, {}).update(table)


def say(key, **fields):
    """The message `key` in the current language, its fields filled in."""
    template = TRANSLATIONS.get(LANGUAGE[0], {}).get(key) or MESSAGES[key]
    return template.format(**fields)


def num(value):
    """A number as a learner reads it: thousands separators, no scientific notation, at most 4 decimals."""
    value = float(value)
    if math.isinf(value) or math.isnan(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1:
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return np.format_float_positional(value, precision=4, unique=True, fractional=False, trim="-")


messages({
    "label.correct": "Correct",
    "label.wrong": "Not yet",
    "label.unanswered": "Not answered yet",
    "label.unreadable": "Cannot check this",
    "check.line": "[{id}] {label}: {message}",
    "check.line_stuck": '[{id}] {label}: {message} (Stuck? exercises.hint("{id}"))',
    "check.no_exercise": "No exercise {given}: {known}.",
    "check.known_ids": "notebook {notebook} has {ids}",
    "check.id_form": "exercise ids look like '01.1'; notebooks {notebooks} have exercises",
    "check.hint": "Hint {id}: {hint}",
    "check.no_material": "Exercise {id} gives no material: everything is in its text.",
    "check.no_notebook": "No exercises for notebook {notebook}: notebooks {notebooks} have them.",
    "check.show_head": "Exercises for notebook {notebook}: answer in each exercise's cell, then run it.",
    "check.show_tail": 'Stuck? exercises.hint("{id}") gives a hint, exercises.solution("{id}") the worked solution.',
    "core.placeholder": "replace the `...` with your answer, then run the cell again.",
    "core.none": "the answer is None. Did you assign the result of print() or of a function without `return`? "
                 "Write the value itself.",
    "core.checker_error": "this answer could not be checked ({error}). Compare its form with the one the exercise "
                          "asks for.",
    "core.too_high": "{value}{unit} is too high, and not one of the usual slips: redo the computation step by step.",
    "core.too_low": "{value}{unit} is too low, and not one of the usual slips: redo the computation step by step.",
    "what.number": "a number",
    "what.whole": "a whole number",
    "read.bool": "{answer} is True/False; {what} is expected",
    "read.text_number": "{answer} is text (in quotes): write the number itself, answer = {cleaned}",
    "read.text": "{answer} is text; {what} is expected, e.g. answer = 42",
    "read.nan": "{answer} is not {what}",
    "read.several": "{answer} holds several values; {what} is expected",
    "read.other": "{answer} is not {what}",
    "read.not_whole": "{answer} is not a whole number; {what} is expected",
    "read.sequence": "{answer} is not {what}",
    "read.count_one": "{answer} has 1 value; {what} has {length}",
    "read.count_many": "{answer} has {count} values; {what} has {length}",
    "read.item": "value {position} of {what} is {item}, not a whole number",
    "read.shape_array": "this is an array of shape {shape}, not a shape: write a tuple like {example}",
    "read.shape_other": "{answer} is not a shape: write a tuple like {example}",
    "read.shape_none": "{shape} has None in it: every size here is known, write numbers",
    "read.shape_axes_one": "{shape} has 1 axis; the answer has {ndim}: {example}",
    "read.shape_axes_many": "{shape} has {count} axes; the answer has {ndim}: {example}",
    "read.shape_size": "{shape}: every size is a whole number",
    "read.shape_positive": "{shape}: sizes are positive numbers",
    "read.array_kind": "{answer} is not {what}: write a NumPy array or nested lists of numbers",
    "read.array_ragged": "{answer} cannot be read as {what} of numbers (are all rows the same length?)",
    "read.array_axes_one": "the answer has 1 axis (shape {shape}); {what} with {ndim} is expected",
    "read.array_axes_many": "the answer has {count} axes (shape {shape}); {what} with {ndim} is expected",
    "read.array_finite": "the answer holds NaN or infinite values",
    "read.choice_kind": "{answer} is not a choice: answer with a letter in quotes, one of {letters}",
    "read.choice_unknown": "choose among {letters}; got {answer}",
    "read.choice_one": "pick one letter: {answer} names {count}",
    "read.function": "{answer} is not a function: pass the function itself, {name}, not {name}(...)",
    "shape.example3": "(height, width, depth)",
    "shape.example2": "(height, width)",
    "shape.order": "{shape} has the right sizes in the wrong order: Keras writes {example}.",
    "shape.larger": "{axis} {size} (should be larger)",
    "shape.smaller": "{axis} {size} (should be smaller)",
    "shape.some_off_one": "{shape}: {off}; the {right} is right.",
    "shape.some_off_many": "{shape}: {off}; the {right} are right.",
    "shape.all_off": "{shape}: {off}; none of the sizes is right.",
    "axis.height": "height",
    "axis.width": "width",
    "axis.depth": "depth",
    "axis.channels": "channels",
    "list.and": "{first} and {last}",
})


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


# ------------------------------------------------------------------------------------ answer readers

PLAIN = (np.ndarray, np.generic, str, bytes, numbers.Number, list, tuple, set, frozenset, dict, type(None))


def plain(answer):
    """A tensor (TensorFlow, JAX, PyTorch, a Keras variable) as a NumPy array; anything else as it is."""
    if isinstance(answer, PLAIN) or callable(answer):
        return answer
    to_numpy = getattr(answer, "numpy", None)
    try:
        if callable(to_numpy):
            return np.asarray(to_numpy())
        if hasattr(answer, "__array__"):
            return np.asarray(answer)
    except Exception:  # not a tensor after all: read it as it is
        pass
    return answer


def is_placeholder(answer):
    """True for the `...` a learner's cell starts with."""
    return answer is Ellipsis


def describe(answer):
    """A short description of a value for messages: its repr, cut, and its type."""
    text = repr(answer)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{text} ({type(answer).__name__})"


def as_number(answer, what="what.number"):
    """The answer as a float, or Unreadable saying why it is not a number (`what` is a message key)."""
    answer = plain(answer)
    what = say(what)
    if isinstance(answer, (bool, np.bool_)):
        raise Unreadable("read.bool", answer=answer, what=what)
    if isinstance(answer, str):
        cleaned = answer.replace(",", "").replace("_", "").strip()
        try:
            float(cleaned)
        except ValueError:
            raise Unreadable("read.text", answer=repr(answer), what=what) from None
        raise Unreadable("read.text_number", answer=repr(answer), cleaned=cleaned)
    if isinstance(answer, np.ndarray) and answer.size == 1 and np.issubdtype(answer.dtype, np.number):
        answer = answer.reshape(()).item()
    if isinstance(answer, numbers.Real):
        value = float(answer)
        if math.isnan(value):
            raise Unreadable("read.nan", answer=repr(answer), what=what)
        return value
    if isinstance(answer, (tuple, list, set, dict, np.ndarray)):
        raise Unreadable("read.several", answer=describe(answer), what=what)
    raise Unreadable("read.other", answer=describe(answer), what=what)


def as_int(answer, what="what.whole"):
    """The answer as an int, or Unreadable (text, fractions, collections)."""
    value = as_number(answer, what)
    if math.isinf(value) or value != int(value):
        raise Unreadable("read.not_whole", answer=num(value), what=say(what))
    return int(value)


def as_sequence(answer, what, unordered=False):
    """A list, tuple, 1-D array or tensor (and a set when unordered=True) as a list; Unreadable otherwise."""
    answer = plain(answer)
    kinds = (list, tuple) + ((set, frozenset) if unordered else ())
    if isinstance(answer, np.ndarray) and answer.ndim == 1:
        return answer.tolist()
    if isinstance(answer, kinds):
        return [plain(a) for a in answer]
    raise Unreadable("read.sequence", answer=describe(answer), what=say(what))


def as_int_tuple(answer, length, what):
    """The answer as a tuple of `length` ints, or Unreadable (`what` is a message key)."""
    items = as_sequence(answer, what)
    if len(items) != length:
        key = "read.count_one" if len(items) == 1 else "read.count_many"
        raise Unreadable(key, answer=describe(answer), count=len(items), what=say(what), length=length)
    values = []
    for position, item in enumerate(items, 1):
        try:
            values.append(as_int(item))
        except Unreadable:
            raise Unreadable("read.item", position=position, what=say(what), item=repr(item)) from None
    return tuple(values)


def as_shape(answer, ndim):
    """A shape tuple of ndim positive ints; a leading None (the batch axis) is dropped."""
    example = say("shape.example3" if ndim == 3 else "shape.example2")
    answer = plain(answer)
    if isinstance(answer, np.ndarray) and answer.ndim > 1:
        raise Unreadable("read.shape_array", shape=answer.shape, example=example)
    if isinstance(answer, (numbers.Number, str, dict, set)) or not hasattr(answer, "__len__"):
        raise Unreadable("read.shape_other", answer=describe(answer), example=example)
    items = [plain(v) for v in answer]
    if len(items) == ndim + 1 and items[0] is None:
        items = items[1:]  # the batch axis is fine
    if any(v is None for v in items):
        raise Unreadable("read.shape_none", shape=tuple(items))
    if len(items) != ndim:
        key = "read.shape_axes_one" if len(items) == 1 else "read.shape_axes_many"
        raise Unreadable(key, shape=tuple(items), count=len(items), ndim=ndim, example=example)
    try:
        shape = tuple(as_int(v) for v in items)
    except Unreadable:
        raise Unreadable("read.shape_size", shape=tuple(items)) from None
    if min(shape) < 1:
        raise Unreadable("read.shape_positive", shape=shape)
    return shape


def as_array(answer, ndim=None, what="what.number"):
    """The answer as a float64 NumPy array (optionally of ndim axes), or Unreadable (`what` is a message key)."""
    answer = plain(answer)
    what = say(what)
    if isinstance(answer, (str, dict, set)) or answer is None:
        raise Unreadable("read.array_kind", answer=describe(answer), what=what)
    try:
        arr = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        raise Unreadable("read.array_ragged", answer=describe(answer), what=what) from None
    if ndim is not None and arr.ndim != ndim:
        key = "read.array_axes_one" if arr.ndim == 1 else "read.array_axes_many"
        raise Unreadable(key, count=arr.ndim, shape=arr.shape, what=what, ndim=ndim)
    if not np.all(np.isfinite(arr)):
        raise Unreadable("read.array_finite")
    return arr


def as_choices(answer, options, many=False):
    """Letters chosen among options ('a', 'b', ...): one letter, or a set of them when many=True."""
    letters = ", ".join(f"'{k}'" for k in sorted(options))
    answer = plain(answer)
    if isinstance(answer, np.ndarray) and answer.ndim <= 1 and answer.dtype.kind in "US":
        answer = [str(a) for a in np.atleast_1d(answer)]
    if isinstance(answer, str):
        picked = [c.lower() for c in answer if c.isalpha()]
    elif isinstance(answer, (list, tuple, set, frozenset)) and all(isinstance(a, str) for a in answer):
        picked = [a.strip("() ").lower() for a in answer]
    else:
        raise Unreadable("read.choice_kind", answer=describe(answer), letters=letters)
    unknown = [p for p in picked if p not in options]
    if unknown or not picked:
        raise Unreadable("read.choice_unknown", letters=letters, answer=repr(answer))
    if not many and len(set(picked)) > 1:
        raise Unreadable("read.choice_one", answer=repr(answer), count=len(set(picked)))
    return set(picked) if many else picked[0]


def judge_choice(answer, options, correct, right_key, mistake_keys, **fields):
    """Feedback for one letter among options: right, or what the chosen letter gets wrong (message keys)."""
    choice = as_choices(answer, options)
    return right(right_key, **fields) if choice == correct else wrong(mistake_keys[choice], **fields)


def as_callable(answer, name):
    """The function itself, or Unreadable when the answer is a value (e.g. its result)."""
    if not callable(answer):
        raise Unreadable("read.function", answer=describe(answer), name=name)
    return answer


def call(fn, *args):
    """(result, None) from fn(*args), or (None, why) when the learner's function raised."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return fn(*(a.copy() if isinstance(a, np.ndarray) else a for a in args)), None
    except Exception as exc:  # the learner's code: any error is feedback
        return None, f"{type(exc).__name__}: {str(exc)[:200]}"


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
