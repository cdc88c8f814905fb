"""The exercises' answer readers: a learner's answer read as a number, a shape, an array, a choice or a function.

Each reader returns the value in one plain form, or raises Unreadable with the message (by key) that says
what to write instead.
"""
import contextlib
import io
import math
import numbers

import numpy as np

from .core import Unreadable, right, wrong
from .messages import num, say

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

