"""numpydoc text written once and filled into the docstrings that share it.

An :class:`Entry` is one documented name (a parameter, an attribute, a
returned value). A docstring asks for shared text with a line that holds
only a placeholder, indented where the text goes:

- ``%(name)s``: the entry of that name from the table (an :class:`Entry`,
  or a tuple of them);
- ``%(parameters)s``: a whole Parameters section, one entry per parameter
  of the signature (of the function, or of the class's ``__init__``), in
  its order, with the default the signature has.

:func:`document` fills a function's or a class's docstring from a table
(a dict of entries); :func:`fill` fills any text. Plain ``%`` signs and
placeholders of other names are left alone. Standard library only, so
every layer can use it: the estimators' hyperparameters
(:mod:`skl0._params`), the torch building blocks (:mod:`skl0.nn`), the
l0-python layer and the datasets.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from dataclasses import dataclass

__all__ = ["NO_DEFAULT", "Entry", "document", "fill", "parameters_section"]

NO_DEFAULT = inspect.Parameter.empty
_PLACEHOLDER = re.compile(r"^([ \t]*)%\((\w+)\)s[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class Entry:
    """One documented name: ``name : type[, default=...]`` and its text.

    ``name`` may list several names (``"gamma, zeta"``), documented together.
    ``default`` is the value the docs show; ``shown`` writes it when its
    ``repr`` would not read well (``"2/3"``). A signature whose default differs
    from ``default`` shows its own.
    """

    name: str
    type: str
    doc: str = ""
    default: object = NO_DEFAULT
    shown: str | None = None

    @property
    def names(self):
        return [n.strip() for n in self.name.split(",")]

    def header(self, default=NO_DEFAULT):
        if default is NO_DEFAULT:
            default = self.default
        if not self.type:  # "kernel_size, stride, ..." with text only
            return self.name
        if default is NO_DEFAULT:
            return f"{self.name} : {self.type}"
        if self.shown is not None and _same(default, self.default):
            shown = self.shown
        else:
            shown = f'"{default}"' if isinstance(default, str) else repr(default)
        return f"{self.name} : {self.type}, default={shown}"

    def text(self, default=NO_DEFAULT):
        """The numpydoc entry, unindented (its description indented by 4)."""
        doc = textwrap.indent(textwrap.dedent(self.doc).strip("\n"), "    ")
        return self.header(default) + ("\n" + doc if doc else "")


def _same(a, b):
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # noqa: BLE001 - arrays and the like: not the same
        return False


def _signature_of(obj):
    target = obj.__init__ if inspect.isclass(obj) else obj
    return [p for p in inspect.signature(target).parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def parameters_section(obj, table):
    """The Parameters section of ``obj``'s signature, every entry from ``table``.

    An entry naming several parameters stands once, at the first of them.
    """
    entries, done = [], set()
    for p in _signature_of(obj):
        if p.name in done:
            continue
        entry = table[p.name]
        done.update(entry.names)
        entries.append(entry.text(p.default if len(entry.names) == 1 else NO_DEFAULT))
    return "Parameters\n----------\n" + "\n".join(entries)


def _render(value):
    if isinstance(value, Entry):
        return value.text()
    if isinstance(value, str):
        return value
    return "\n".join(_render(v) for v in value)


def fill(text, table):
    """``text`` with every placeholder line of a name in ``table`` replaced."""

    def replace(match):
        indent, name = match.groups()
        if name not in table:
            return match.group(0)
        return textwrap.indent(_render(table[name]), indent, lambda line: line.strip())

    return _PLACEHOLDER.sub(replace, text)


def document(table, **extra):
    """Decorator: fill the docstring of a function or class from ``table``.

    ``extra`` (entries or text, by placeholder name) add to or replace
    ``table``'s for this object only. ``%(parameters)s`` stands for the
    Parameters section of its signature.
    """
    table = {**_by_name(table), **_by_name(extra)}

    def decorate(obj):
        if obj.__doc__ and "%(" in obj.__doc__:
            local = dict(table)
            if "%(parameters)s" in obj.__doc__:
                local["parameters"] = parameters_section(obj, table)
            obj.__doc__ = fill(obj.__doc__, local)
        return obj

    return decorate


def _by_name(entries):
    """A table: each entry under each of its names (dicts keep their keys too)."""
    if isinstance(entries, dict):
        out = dict(entries)
        for value in entries.values():
            if isinstance(value, Entry):
                out.update(dict.fromkeys(value.names, value))
        return out
    return {name: e for e in entries for name in e.names}
