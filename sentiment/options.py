"""A job's options, declared once: dataclass fields with their flag and help, turned into a command line.

    @dataclass
    class Job:
        start: date = option(flag="--from", help="first day, YYYY-MM-DD")
        sources: list[str] | None = option(None, flag="--source", help="only this source (repeatable)")

`parser(Job)` gives the argparse parser (types, choices, repeatable and required flags taken from
the fields), `build(Job, namespace)` the job, with the dataclass's own defaults for every flag not
given. Fields without help are not options. The `sentiment` command and `python -m` entry points
both parse with it, so an option is written in one place.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from datetime import date
from pathlib import Path
from types import NoneType, UnionType

from sentiment.storage import location

_MISSING = dataclasses.MISSING


def option(
    default=_MISSING,
    *,
    help: str,
    flag: str | None = None,
    choices: tuple[str, ...] | None = None,
    default_factory=_MISSING,
    shown_default: str | None = None,
):
    """A dataclass field that is also a command-line option (`flag`, default: --field-name)."""
    metadata = {"help": help, "flag": flag, "choices": choices, "shown_default": shown_default}
    if default_factory is not _MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def _base(annotation) -> tuple[type, bool]:
    """(the element type, whether the option repeats) of a field's type, Optional removed."""
    if isinstance(annotation, UnionType) or typing.get_origin(annotation) is typing.Union:
        annotation = next(a for a in typing.get_args(annotation) if a is not NoneType)
    if typing.get_origin(annotation) is list:
        return typing.get_args(annotation)[0], True
    return annotation, False


def _convert(kind: type):
    return {date: date.fromisoformat, Path: location, int: int, float: float}.get(kind, str)


def parser(cls, description: str, prog: str | None = None, **defaults) -> argparse.ArgumentParser:
    """The parser of `cls`'s options; `defaults` replaces a field's default on the command line (the
    warehouse from the environment, say), and makes a required field optional."""
    out = argparse.ArgumentParser(
        prog=prog,
        description=description,
        argument_default=argparse.SUPPRESS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        meta = f.metadata
        if "help" not in meta:
            continue
        flag = meta["flag"] or "--" + f.name.replace("_", "-")
        kind, repeat = _base(hints[f.name])
        kwargs: dict = {"dest": f.name, "help": meta["help"]}
        if f.name in defaults:
            kwargs["default"] = defaults[f.name]
            kwargs["help"] += f" (default: {defaults[f.name]})"
        elif f.default is _MISSING and f.default_factory is _MISSING:
            kwargs["required"] = True
        elif meta["shown_default"] or f.default not in (None, False, _MISSING):
            kwargs["help"] += f" (default: {meta['shown_default'] or f.default})"
        if kind is bool:
            kwargs["action"] = "store_true"
        else:
            kwargs["type"] = _convert(kind)
            kwargs["action"] = "append" if repeat else "store"
            kwargs["choices"] = meta["choices"]
            kwargs["metavar"] = (
                "{" + ",".join(meta["choices"]) + "}" if meta["choices"] else flag.lstrip("-").upper().replace("-", "_")
            )
        out.add_argument(flag, **kwargs)
    return out


def build(cls, namespace: argparse.Namespace, **extra):
    """An instance of `cls` from the parsed flags (only those given, so the field defaults hold) and `extra`."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in vars(namespace).items() if k in names}, **extra)
