"""The course's messages in the learner's language: English templates registered by key, and their translations.

Every text a learner reads at run time is a template with a stable key ("01.1.valid", "banner.line", ...),
registered with `messages()`; the code names the key and fills in the fields (`say()`). A translation holds the same
keys: the Korean one is the catalog helpers/locale/ko.po (msgctxt: the key; msgid: the English; msgstr: the Korean),
read with polib and selected by COURSE_LANG=ko; `translate()` adds one from code. tools/korean.py keeps the catalog
in step with the English.
"""
import contextlib
import functools
import sys
from pathlib import Path

from . import config

MESSAGES = {}  # key -> English template (str.format fields)
TRANSLATIONS = {}  # language -> {key: template}; missing keys fall back to English
LANGUAGE = [None]  # a language that overrides COURSE_LANG (a one-item list: settable from anywhere); None: COURSE_LANG
LOCALE = Path(__file__).resolve().parent / "locale"  # helpers/locale/<language>.po


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


def current_language():
    """The language messages are rendered in: LANGUAGE's override, else COURSE_LANG (config.language)."""
    return LANGUAGE[0] or config.language()


@functools.cache
def locale_catalog(lang):
    """{key: text} of a language's catalog, helpers/locale/<lang>.po: its finished entries ({} for English)."""
    path = LOCALE / f"{lang}.po"
    if lang == "en" or not path.exists():
        return {}
    import polib

    try:
        entries = polib.pofile(str(path))
    except (OSError, UnicodeDecodeError) as err:  # a hand edit broke the file: the course goes on in English
        print(f"{path.name}: cannot be read ({err}); messages fall back to English. Restore it with "
              f"`git checkout helpers/locale/{path.name}`.", file=sys.stderr)
        return {}
    return {e.msgctxt: e.msgstr for e in entries if e.msgstr and "fuzzy" not in e.flags}


def local(key, english):
    """A text in the current language: its translation under `key`, else the English given."""
    lang = current_language()
    return TRANSLATIONS.get(lang, {}).get(key) or locale_catalog(lang).get(key) or english


def say(key, **fields):
    """The message `key` in the current language, its fields filled in."""
    return local(key, MESSAGES[key]).format(**fields)


@contextlib.contextmanager
def speaking(lang):
    """Within the block, messages are rendered in `lang` whatever COURSE_LANG says (tools that write one edition)."""
    before = LANGUAGE[0]
    LANGUAGE[0] = config.language(lang)
    try:
        yield
    finally:
        LANGUAGE[0] = before
