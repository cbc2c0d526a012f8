"""One record as read from an input, before it is cleaned: the ground that readers and shapes share."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RawRecord:
    number: int  # 0-based position in its input file
    fields: dict | None  # None when the record could not even be parsed
    error: str | None = None  # why it could not be parsed
    raw: str | None = None  # the unparsed text, for the quarantine
    input: str = ""  # the file it came from
    replaced: int = 0  # characters its decoding replaced with U+FFFD (bytes invalid in the file's encoding)
