"""The benchmark tables in docs/, generated from bench/results/*.json, never edited by hand.

    python -m bench.tables            # rewrite every generated block in docs/*.md
    python -m bench.tables --check    # exit 1, naming the blocks, when docs and results disagree

A block is written between `<!-- generated: NAME -->` and `<!-- /generated -->`; NAME is one of
TABLES below. A benchmark run writes its JSON; this script puts its tables into the docs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

from bench.general import ablation_markdown
from bench.general import markdown as general_markdown
from bench.measure import RESULTS

DOCS = Path(__file__).resolve().parent.parent / "docs"
_BLOCK = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /generated -->)", re.S)


def _accuracy(results: Path) -> dict:
    path = results / "accuracy.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _general(results: Path) -> str:
    return general_markdown(_accuracy(results)["general"])


def _variants(results: Path) -> str:
    general = _accuracy(results)["general"]
    return ablation_markdown({"default": general, **general.get("ablations", {})})


def _english(results: Path) -> str:
    return general_markdown(_accuracy(results)["general"]["ablations"]["english"])


TABLES: dict[str, Callable[[Path], str]] = {
    "accuracy-general": _general,  # the general model, its peers and VADER on every judged split
    "accuracy-general-variants": _variants,  # the general model's variants, headline metric per split
    "accuracy-general-english": _english,  # the English sources only, with their own same-run peers
}


def render(text: str, results: Path = RESULTS) -> str:
    """`text` with every generated block filled from `results`."""

    def fill(match: re.Match) -> str:
        name = match.group("name")
        if name not in TABLES:
            raise ValueError(f"unknown generated block {name!r}; known: {', '.join(TABLES)}")
        return f"{match.group(1)}\n{TABLES[name](results).strip()}\n\n{match.group(4)}"

    return _BLOCK.sub(fill, text)


def stale(docs: Path = DOCS, results: Path = RESULTS) -> list[str]:
    """The doc files whose generated blocks differ from what `results` gives."""
    return [str(p) for p in sorted(docs.glob("*.md")) if render(p.read_text(), results) != p.read_text()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when a block is out of date")
    args = parser.parse_args(argv)
    out_of_date = stale()
    if args.check:
        for path in out_of_date:
            print(f"{path}: generated tables differ from bench/results; run `python -m bench.tables`")
        return 1 if out_of_date else 0
    for path in out_of_date:
        Path(path).write_text(render(Path(path).read_text()))
        print(f"rewrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
