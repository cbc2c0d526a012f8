"""Sources files (TOML) and the built-in presets for common dump shapes.

[sources.worldnews]
preset = "reddit"                     # generic | twitter | reddit | mastodon | bluesky | hackernews |
                                      # youtube | news | feed
path = "dumps/RS_2016-*.jsonl.zst"    # a file, a directory or a glob
timezone = "UTC"                      # for naive timestamps
# any SourceSpec field overrides the preset: text_field, time_field, default_lang, ...
"""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

from ingestion.shapes.gdelt import GKG_COLUMNS
from ingestion.sources import SourceSpec

# A platform preset unpacks the export's own layout (ingestion.shapes) into flat posts, so its
# fields are the posts' keys; each is still overridable, and `post.<path>` reaches the platform's
# own object. Identical texts are kept on social platforms (dedup_text = false): each post has
# its own id and person behind it, and a retweet or "+1" is a voice to count; the same post
# twice (overlapping exports) is still stored once, by id.
_POSTS = {
    "id_field": "id",
    "text_field": "text",
    "title_field": "title",
    "time_field": "published_at",
    "author_field": "author",
    "url_field": "url",
    "lang_field": "lang",
    "kind_field": "kind",
    "ref_field": "ref_id",
    "score_field": "score",
    "dedup_text": False,
}
PRESETS: dict[str, dict] = {
    # id, text, title, published_at, author, url, lang
    "generic": {
        "id_field": "id",
        "text_field": "text",
        "title_field": "title",
        "time_field": "published_at",
        "author_field": "author",
        "url_field": "url",
        "lang_field": "lang",
    },
    # X/Twitter: API v2 pages (twarc2), stream lines, flatten output, v1.1 tweets; text HTML-escaped
    "twitter": {**_POSTS, "shape": "twitter", "unescape": True},
    # Reddit: Pushshift dumps (RC_/RS_ monthly, subreddit dumps), API listings; text HTML-escaped
    "reddit": {**_POSTS, "shape": "reddit", "combine_title": True, "unescape": True},
    # Mastodon statuses (content is HTML; a content warning is the title)
    "mastodon": {**_POSTS, "shape": "mastodon", "combine_title": True, "html": True},
    # Bluesky: feed and search pages, postViews, Jetstream commits
    "bluesky": {**_POSTS, "shape": "bluesky"},
    # Hacker News items (official API) and Algolia hits; text is HTML
    "hackernews": {**_POSTS, "shape": "hackernews", "combine_title": True, "html": True},
    # YouTube Data API v3 commentThreads (top-level comments and their replies)
    "youtube": {**_POSTS, "shape": "youtube"},
    # GDELT 2.1 Global Knowledge Graph (.gkg.csv, zipped or not): the page title is the text, GDELT's
    # tone kept in source_score; tab-separated without a header. The same story on many sites is one text.
    "gdelt": {
        **_POSTS,
        "shape": "gdelt_gkg",
        "format": "csv",
        "delimiter": "\t",
        "header": False,
        "columns": GKG_COLUMNS,
        "unescape": True,
        "dedup_text": True,
    },
    # news articles: the URL is the id, title + body (HTML) is the scored text; news-please's names too
    "news": {
        "id_field": "url",
        "text_field": "content",
        "text_fallbacks": ("maintext", "description", "summary"),
        "title_field": "title",
        "combine_title": True,
        "time_field": ("published", "date_publish"),
        "url_field": "url",
        "author_field": ("author", "authors"),
        "lang_field": ("lang", "language"),
        "html": True,
    },
    # RSS 2.0 / RSS 1.0 / Atom, from files or an http(s) URL
    "feed": {
        "format": "feed",
        "id_field": "id",
        "text_field": "content",
        "title_field": "title",
        "combine_title": True,
        "time_field": "published",
        "url_field": "url",
        "author_field": "author",
        "lang_field": "lang",
        "html": True,
    },
}
_SPEC_FIELDS = {f.name for f in fields(SourceSpec)}


def source_from_preset(name: str, path: str | Path, preset: str = "generic", **overrides) -> SourceSpec:
    if preset not in PRESETS:
        raise ValueError(f"source {name!r}: unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    unknown = set(overrides) - _SPEC_FIELDS
    if unknown:
        raise ValueError(f"source {name!r}: unknown setting(s) {sorted(unknown)}; known: {sorted(_SPEC_FIELDS)}")
    settings = {**PRESETS[preset], **overrides}
    settings["extra"] = {**settings.get("extra", {}), "explicit": tuple(sorted(overrides)), "preset": preset}
    return SourceSpec(name=name, path=path, **settings)


def load_sources(path: Path) -> list[SourceSpec]:
    """The sources of a TOML sources file; relative paths are read from the file's folder."""
    try:
        config = tomllib.loads(Path(path).read_text())
    except FileNotFoundError as err:
        raise FileNotFoundError(f"sources file not found: {path}") from err
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{path} is not valid TOML: {err}") from err
    sources = config.get("sources")
    if not isinstance(sources, dict) or not sources:
        raise ValueError(f"{path}: no [sources.<name>] tables")
    specs = []
    for name, table in sources.items():
        table = dict(table)
        if "path" not in table:
            raise ValueError(f"{path}: source {name!r} has no path")
        location = str(table.pop("path"))
        if "://" not in location and not Path(location).is_absolute():
            location = str(Path(path).parent / location)
        specs.append(source_from_preset(name, location, table.pop("preset", "generic"), **table))
    return specs


def select_sources(config: Path | None, data_dir: Path | None, names: list[str] | None) -> list[SourceSpec]:
    """The sources of a sources file (or the demo's, from the datasets directory), optionally by name."""
    specs = load_sources(Path(config)) if config else demo_sources(Path(data_dir)) if data_dir else []
    if not specs:
        raise ValueError("no sources: give a sources file (--config) or an input (--input)")
    if names:
        unknown = sorted(set(names) - {s.name for s in specs})
        if unknown:
            raise ValueError(f"unknown source(s) {unknown}; configured: {sorted(s.name for s in specs)}")
        specs = [s for s in specs if s.name in names]
    return specs


def specs_for(
    config: Path | None,
    data_dir: Path | None,
    names: list[str] | None,
    input: str | None = None,
    preset: str = "generic",
    **overrides,
) -> list[SourceSpec]:
    """The sources a run ingests: one --input as source `names[0]` with a preset and overrides (None
    values are not overrides), else a sources file's (or the demo's), optionally by name."""
    if input:
        if not names or len(names) != 1:
            raise ValueError("--input needs one --source NAME")
        return [source_from_preset(names[0], input, preset, **{k: v for k, v in overrides.items() if v is not None})]
    return select_sources(config, None if config else data_dir, names)


def parse_settings(pairs: list[str]) -> dict:
    """KEY=VALUE pairs (the command line's --set) as settings; a VALUE that is a TOML value (true,
    3, ["a", "b"]) is that value, anything else the text itself."""
    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set {pair!r}: expected KEY=VALUE, e.g. text_field=message")
        try:
            settings[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            settings[key.strip()] = value
    return settings


def demo_sources(data_dir: Path) -> list[SourceSpec]:
    """The two real dated corpora the demo ingests, as a sources file would declare them."""
    # both are known English corpora: no language identification needed
    english = {"id_field": "doc_id", "default_lang": "en", "detect_lang": False, "lang_field": None}
    return [
        source_from_preset("twitter", data_dir / "airline_tweets" / "all.parquet", "generic", **english),
        source_from_preset(
            "reddit_worldnews",
            data_dir / "reddit_worldnews" / "all.parquet",
            "generic",
            **english,
            title_field=None,
            author_field=None,
            url_field=None,
        ),
    ]
