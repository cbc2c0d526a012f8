"""Finding a field in a nested record: dotted paths (`user.screen_name`, `data.text`,
`entities.urls.0.expanded_url`) and lists of fallbacks, tried in order.

A key that itself holds a dot (a CSV header `user.name`) is found as it is before the path is
followed into nested objects.
"""

from __future__ import annotations

from collections.abc import Iterable

Paths = tuple[str, ...]
_MISSING = object()


def as_paths(setting: str | Iterable[str] | None) -> Paths:
    """A field setting (one path, or a list of paths tried in order) as a tuple of paths."""
    if setting is None:
        return ()
    if isinstance(setting, str):
        return (setting,)
    paths = tuple(setting)
    if not all(isinstance(p, str) and p for p in paths):
        raise ValueError(f"a field setting must be a path or a list of paths, not {setting!r}")
    return paths


def lookup(record: object, path: str) -> object:
    """The value at `path` in `record`, or None when any step is missing."""
    if isinstance(record, dict) and path in record:
        return record[path]
    value = record
    for step in path.split("."):
        if isinstance(value, dict):
            value = value.get(step, _MISSING)
        elif isinstance(value, list) and step.lstrip("-").isdigit() and -len(value) <= int(step) < len(value):
            value = value[int(step)]
        else:
            return None
        if value is _MISSING:
            return None
    return value


def blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def first(record: dict, paths: Paths) -> object:
    """The value of the first path that holds a non-blank value (else the last path's value,
    which may be an empty string or a non-text value worth reporting)."""
    value = None
    for path in paths:
        value = lookup(record, path)
        if not blank(value):
            return value
    return value


def is_plain(paths: Paths) -> bool:
    """One top-level field name: what the batch path reads as a column."""
    return len(paths) <= 1 and all("." not in p for p in paths)


def describe_keys(record: dict, limit: int = 12) -> str:
    """The record's top-level keys, for a reason or a warning: 'data, includes, meta'."""
    keys = [str(k) for k in record]
    more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
    return (", ".join(keys[:limit]) + more) if keys else "no fields"
