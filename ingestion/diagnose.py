"""What an ingest says when its input does not look like what the source expects: a field path
that matched nothing in a whole input, and an input whose records are mostly quarantined, with
the fix most likely to help. Also the run-level rule that turns such an input into a failure
(`--max-quarantined`)."""

from __future__ import annotations

from collections import Counter

from ingestion.fields import as_paths
from ingestion.sources import PARSED, SourceSpec

MOSTLY = 0.5  # an input with more than this share of its records quarantined gets a warning
_SETTING = {
    "id_field": "id",
    "title_field": "title",
    "author_field": "author",
    "url_field": "url",
    "lang_field": "lang",
    "kind_field": "kind",
    "ref_field": "ref_id",
    "score_field": "source_score",
}


def input_warnings(
    spec: SourceSpec, location: str, found: dict[str, int], keys: str, read: int, quarantined: list[dict]
) -> list[str]:
    warnings = []
    parsed = found.get(PARSED, 0)
    explicit = spec.extra.get("explicit", ())  # set by the user, not the preset's default
    for name, count in found.items():
        if name != PARSED and parsed and count == 0 and name in explicit:
            paths = ", ".join(as_paths(getattr(spec, name)))
            warnings.append(
                f"{spec.name}: {name} {paths!r} matched nothing in {location} ({parsed} records); "
                f"its {_SETTING[name]} column is empty. The records have: {keys or 'no fields'}. "
                f"Set {name} to one of them (a dotted path such as user.screen_name reaches nested "
                "fields), or to an empty list to stop looking"
            )
    if read and len(quarantined) > MOSTLY * read:
        reason, count = Counter(_gist(row["reason"]) for row in quarantined).most_common(1)[0]
        warnings.append(
            f"{spec.name}: {len(quarantined)} of {read} records of {location} were quarantined "
            f"({count} for {reason!r}). {advice(reason, spec)}"
        )
    return warnings


def _gist(reason: str) -> str:
    return reason.split(":")[0].split(" (")[0]


def advice(reason: str, spec: SourceSpec) -> str:
    """The fix most likely to help when most records fail for `reason`."""
    if reason.startswith("missing text") or reason.startswith("text is not a string"):
        return (
            "The text is not where the source looks: set text_field (a dotted path such as data.text, or a "
            "list of fallbacks), or use the preset for this export (twitter, reddit, mastodon, bluesky, gdelt, "
            "hackernews, youtube, news, feed)."
        )
    if "timestamp" in reason:
        return (
            "Set time_field to the field holding the date, timezone for naive times, or published_at "
            "(--published-at) to give an undated corpus one time."
        )
    if reason.startswith("CSV row has"):
        return (
            "The columns do not line up: set delimiter (tab for GDELT and .tsv files), or header = false "
            "with columns = [...] for a file without a header line."
        )
    if reason.startswith(("malformed JSON", "JSON line is not an object")):
        return "The file may not be JSON Lines: set format (csv, parquet, feed) or check the export."
    if reason.startswith("not a"):
        return f"The records are not what the {spec.shape or 'source'} shape reads: check the preset."
    if reason.startswith("comment has no text"):
        return "Deleted and removed comments have no text to score; nothing to fix."
    return "See the quarantine table for the records and their reasons."


def over_limit(summaries: list[dict], limit: float | None) -> list[str]:
    """The sources whose quarantined share is above `limit` (0..1): a run that must not go on."""
    if limit is None:
        return []
    return [
        f"{s['source']}: {s['quarantined']} of {s['read']} records quarantined "
        f"({s['quarantined'] / s['read']:.0%} > {limit:.0%})"
        for s in summaries
        if s["read"] and s["quarantined"] / s["read"] > limit
    ]
