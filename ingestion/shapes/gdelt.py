"""GDELT 2.1 Global Knowledge Graph files (`YYYYMMDDHHMMSS.gkg.csv`, zipped as published):
tab-separated, no header, 27 columns (GDELT-Global_Knowledge_Graph_Codebook-V2.1).

Per record: the article's page title (from `V2EXTRASXML`'s <PAGE_TITLE>) is the text, the
document URL the url, `V2.1DATE` the time, and GDELT's own tone (the first value of
`V1.5TONE`, -100..100) is kept in `source_score`, beside our score. A record without a page
title has no text to read and is quarantined with that reason.

The GDELT 2.0 Events files are not read: an event row holds codes, actor names and a source
URL, but no text to score (its AvgTone is GDELT's, over an article we do not have).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ingestion.shapes import Rejected, post

GKG_COLUMNS = (
    "GKGRECORDID",
    "V2.1DATE",
    "V2SOURCECOLLECTIONIDENTIFIER",
    "V2SOURCECOMMONNAME",
    "V2DOCUMENTIDENTIFIER",
    "V1COUNTS",
    "V2.1COUNTS",
    "V1THEMES",
    "V2ENHANCEDTHEMES",
    "V1LOCATIONS",
    "V2ENHANCEDLOCATIONS",
    "V1PERSONS",
    "V2ENHANCEDPERSONS",
    "V1ORGANIZATIONS",
    "V2ENHANCEDORGANIZATIONS",
    "V1.5TONE",
    "V2.1ENHANCEDDATES",
    "V2GCAM",
    "V2.1SHARINGIMAGE",
    "V2.1RELATEDIMAGES",
    "V2.1SOCIALIMAGEEMBEDS",
    "V2.1SOCIALVIDEOEMBEDS",
    "V2.1QUOTATIONS",
    "V2.1ALLNAMES",
    "V2.1AMOUNTS",
    "V2.1TRANSLATIONINFO",
    "V2EXTRASXML",
)
_TITLE = re.compile(r"<PAGE_TITLE>(.*?)</PAGE_TITLE>", re.S)
# GDELT's translingual records say their source language as ISO 639-2 ("srclc:fra"); the common ones:
_LANGUAGES = {
    "ara": "ar",
    "deu": "de",
    "ger": "de",
    "fra": "fr",
    "fre": "fr",
    "hin": "hi",
    "ita": "it",
    "por": "pt",
    "spa": "es",
    "eng": "en",
    "rus": "ru",
    "zho": "zh",
    "chi": "zh",
    "jpn": "ja",
    "tur": "tr",
    "nld": "nl",
}


def _tone(value: object) -> float | None:
    try:
        return float(str(value).split(",")[0])
    except (TypeError, ValueError):
        return None


def _lang(translation: object) -> str | None:
    match = re.search(r"srclc:([a-z]{3})", translation) if isinstance(translation, str) else None
    return _LANGUAGES.get(match.group(1)) if match else None


def gkg(record: dict) -> Iterator[dict | Rejected]:
    if "GKGRECORDID" not in record:
        yield Rejected("not a GDELT GKG 2.1 record: expected 27 tab-separated columns", record)
        return
    title = _TITLE.search(record.get("V2EXTRASXML") or "")
    if not title or not title.group(1).strip():
        yield Rejected(
            "GDELT record without a page title (V2EXTRASXML has no <PAGE_TITLE>): no text to read",
            {k: record.get(k) for k in ("GKGRECORDID", "V2.1DATE", "V2DOCUMENTIDENTIFIER", "V1.5TONE")},
        )
        return
    yield post(
        id=record["GKGRECORDID"],
        text=title.group(1),
        published_at=record.get("V2.1DATE"),
        url=record.get("V2DOCUMENTIDENTIFIER"),
        author=record.get("V2SOURCECOMMONNAME"),
        lang=_lang(record.get("V2.1TRANSLATIONINFO")),
        kind="article",
        score=_tone(record.get("V1.5TONE")),
        post={
            k: record.get(k)
            for k in (
                "GKGRECORDID",
                "V2.1DATE",
                "V2SOURCECOMMONNAME",
                "V2DOCUMENTIDENTIFIER",
                "V1.5TONE",
                "V2.1TRANSLATIONINFO",
            )
        },
    )
