"""Topics of a document: configured keyword/regex lists per topic, plus its hashtags.

A topics file (TOML):

    [topics.acme]
    keywords = ["acme", "acme corp"]        # whole words, case-insensitive
    patterns = ['\\bacme[- ]?(inc|co)\\b']   # regular expressions, case-insensitive

Hashtags become topics of their own ("#fail"), lower-cased, when `hashtags = true`
(the default) at the top level of the file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from sentiment.storage import location

_HASHTAG = re.compile(r"(?<![\w#])#(\w{2,50})")


@dataclass(frozen=True)
class Topics:
    patterns: dict[str, re.Pattern] = field(default_factory=dict)  # topic -> one compiled pattern
    hashtags: bool = True  # each hashtag is a topic

    def match(self, text: str) -> tuple[str, ...]:
        found = {name for name, pattern in self.patterns.items() if pattern.search(text)}
        if self.hashtags:
            found.update(f"#{tag.lower()}" for tag in _HASHTAG.findall(text))
        return tuple(sorted(found))

    @classmethod
    def from_dict(cls, config: dict) -> Topics:
        patterns = {}
        for name, spec in (config.get("topics") or {}).items():
            if not isinstance(spec, dict):
                raise ValueError(f"topic {name!r}: expected a table with keywords and/or patterns")
            parts = [rf"\b{re.escape(k)}\b" for k in spec.get("keywords", [])]
            for raw in spec.get("patterns", []):
                try:
                    re.compile(raw)
                except re.error as err:
                    raise ValueError(f"topic {name!r}: bad pattern {raw!r}: {err}") from err
                parts.append(f"(?:{raw})")
            if not parts:
                raise ValueError(f"topic {name!r} has no keywords or patterns")
            patterns[name] = re.compile("|".join(parts), re.IGNORECASE)
        return cls(patterns, bool(config.get("hashtags", True)))

    @classmethod
    def load(cls, path: Path | None) -> Topics:
        """Topics from a TOML file; hashtags only when there is no file."""
        if path is None:
            return cls()
        try:
            return cls.from_dict(tomllib.loads(location(path).read_text()))
        except FileNotFoundError as err:
            raise FileNotFoundError(f"topics file not found: {path}") from err
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{path} is not valid TOML: {err}") from err
