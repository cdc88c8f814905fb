"""The exercises' messages: the templates every exercise shares (helpers.i18n registers and translates them), and
numbers as a learner reads them.

Checkers name a message's key and fill in its fields; tests name the message they expect by its key.
"""
import math

import numpy as np

from ..i18n import LANGUAGE, MESSAGES, TRANSLATIONS, local, messages, say, translate

__all__ = ["LANGUAGE", "MESSAGES", "TRANSLATIONS", "local", "messages", "num", "say", "translate"]


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
    "check.solution_head": "Solution {id} · {title}",
    "cell.solution": "**Solution.**",
    "cell.solutions_title": "# Solutions · {title}",
    "cell.solutions_intro": "Worked solutions to the exercises at the end of [`{file}`](../{file}). Try them there "
                            "first: the check tells you what your own answer reveals. Each code cell below sets a "
                            "correct answer and runs the same `exercises.check` a learner runs.",
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
