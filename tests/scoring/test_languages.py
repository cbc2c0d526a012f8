"""A model is only given text in the languages it reads: the model states them (model.json, the
card), the scoring job skips the others, counted per language and kept out of the aggregates,
and `--languages all` forces scoring."""

import json
from datetime import UTC, datetime

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.util import assert_that, equal_to

from ingestion.config import source_from_preset
from ingestion.ingest import ingest_source
from pipelines.encode import SKIPPED, EncodeDocuments
from pipelines.manifest import read_manifest
from pipelines.score import ScoreJob, score_range
from sentiment.query import run_query
from sentiment.report import format_scoring
from sentiment.warehouse import Warehouse
from sentiment_model import checkpoint
from sentiment_model.languages import reads, scoring_languages, training_languages
from tests.factories import beam_test_pipeline

DAY = "2025-03-02"
POSTS = [
    ("e1", "en", "What a great day, I love this new train line"),
    ("e2", "en", "Terrible service again, the train was late"),
    ("f1", "fr", "Quel désastre, je déteste ce gouvernement"),
    ("f2", "fr", "Une journée magnifique, merci à tous"),
    ("d1", "de", "Das ist eine Katastrophe"),
    ("u1", "und", "🙂🙂"),
]


@pytest.fixture
def lake(tmp_path, tiny_model):
    """A warehouse with posts in English, French, German and und, and the tiny (English) model."""
    import shutil

    path = tmp_path / "posts.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": i, "lang": lang, "text": text, "published_at": f"{DAY}T08:00:00Z"}) + "\n"
            for i, lang, text in POSTS
        )
    )
    wh = Warehouse(tmp_path / "wh")
    ingest_source(source_from_preset("posts", path, "generic"), wh)
    wh.models.mkdir(parents=True)
    shutil.copytree(tiny_model, wh.models / "v1")
    wh.set_current_model(wh.models / "v1")
    return wh


def test_a_model_states_the_languages_it_reads(tiny_model):
    meta = checkpoint.read_meta(tiny_model)
    assert meta["languages"] == ["en"] and meta["language_rows"]["en"] > 200
    assert "- Reads: en (training rows by language: en" in (tiny_model / "MODEL_CARD.md").read_text()


def test_a_model_trained_on_several_languages_reads_them_and_reports_each_on_validation(tmp_path):
    from sentiment_model.train import TrainConfig, train
    from tests.factories import TINY_TRAIN

    words = {"en": ("great", "awful"), "fr": ("génial", "nul"), "es": ("genial", "horrible")}
    for split, n in (("train", 40), ("validation", 12)):
        rows = [
            (f"{lang}: {words[lang][i % 2]} {i}", ("positive", "negative")[i % 2], lang)
            for lang in words
            for i in range(n)
        ]
        pq.write_table(
            pa.table({"text": [r[0] for r in rows], "label": [r[1] for r in rows], "lang": [r[2] for r in rows]}),
            tmp_path / f"{split}.parquet",
        )
    model = train(TrainConfig(data=tmp_path, out=tmp_path / "m", seed=3, **TINY_TRAIN))
    meta = checkpoint.read_meta(model)
    assert meta["languages"] == ["en", "es", "fr"]
    assert {lang: m["n"] for lang, m in meta["validation_by_language"].items()} == {"en": 12, "es": 12, "fr": 12}
    assert meta["validation_by_language"]["fr"]["macro_f1"] > 0.9
    card = (model / "MODEL_CARD.md").read_text()
    assert "| fr | 12 |" in card and "- Reads: en, es, fr" in card


def test_training_languages_use_a_lang_column_and_identify_the_rest():
    texts = ["Das ist ein sehr guter Film, wirklich wunderbar."] * 3 + ["This film is wonderful, truly."] * 96 + ["x"]
    langs = ["de", "de", "de"] + [None] * 97
    counts = training_languages(texts, langs)
    assert counts["de"] == 3 and counts["en"] == 96
    assert reads(counts) == ["de", "en"] and reads({"en": 99, "fr": 1}) == ["en"]  # under 2%: not read


def test_scoring_languages_choices():
    meta = {"languages": ["en", "fr"]}
    assert scoring_languages(meta) == {"en", "fr", "und"}
    assert scoring_languages(meta, "all") is None
    assert scoring_languages(meta, "de,und") == {"de", "und"}
    assert scoring_languages({}) == {"en", "und"}  # saved before languages were recorded: English
    with pytest.raises(ValueError, match="languages must be"):
        scoring_languages(meta, "english please")


def test_encode_skips_documents_in_languages_the_model_does_not_read(tiny_model):
    table = pa.table(
        {
            "doc_id": [f"posts:{i}" for i, _, _ in POSTS],
            "source": ["posts"] * len(POSTS),
            "published_at": pa.array([datetime(2025, 3, 2, 8, tzinfo=UTC)] * len(POSTS), pa.timestamp("us", tz="UTC")),
            "lang": [lang for _, lang, _ in POSTS],
            "text": [text for _, _, text in POSTS],
        }
    )
    with beam_test_pipeline() as p:
        encoded = p | beam.Create([table]) | EncodeDocuments(str(tiny_model), languages=frozenset({"en", "und"}))
        given = encoded.encoded | beam.FlatMap(lambda batch: batch.keys.column("doc_id").to_pylist())
        skipped = encoded[SKIPPED] | beam.Map(lambda row: (row["doc_id"], row["reason"]))
        assert_that(given, equal_to(["posts:e1", "posts:e2", "posts:u1"]), label="given")
        assert_that(
            skipped,
            equal_to([("posts:f1", "language_fr"), ("posts:f2", "language_fr"), ("posts:d1", "language_de")]),
            label="skipped",
        )


def test_the_job_skips_and_counts_other_languages_and_forcing_scores_them(lake):
    summary = score_range(ScoreJob(home=lake.root, start=DAY, end=DAY))
    counters = summary.counters
    assert counters["documents_read"] == 6 and counters["documents_scored"] == 3
    assert counters["documents_skipped_language_fr"] == 2 and counters["documents_skipped_language_de"] == 1
    assert counters["documents_given_lang_en"] == 2 and counters["documents_given_lang_und"] == 1
    manifest = read_manifest(lake, DAY)
    assert manifest["skipped"] == {"language_de": 1, "language_fr": 2}
    daily = run_query(lake, "SELECT lang, documents FROM daily_sentiment ORDER BY lang")
    assert daily.to_dict("list") == {"lang": ["en", "und"], "documents": [2, 1]}  # no fr, no de row
    assert format_scoring(summary.as_dict()).endswith(
        "By language: en 2 scored; fr 2 skipped (the model does not read it); de 1 skipped (the model does not "
        "read it); und 1 scored"
    )
    forced = score_range(ScoreJob(home=lake.root, start=DAY, end=DAY, languages="all"))
    assert forced.counters["documents_scored"] == 6 and forced.counters["documents_skipped"] == 0
    assert sorted(run_query(lake, "SELECT DISTINCT lang FROM daily_sentiment")["lang"]) == ["de", "en", "fr", "und"]


def test_trend_filters_by_language(lake):
    from sentiment.trend import trend

    score_range(ScoreJob(home=lake.root, start=DAY, end=DAY, languages="all"))
    assert trend(lake, lang="fr")["documents"].tolist() == [2]
    assert trend(lake)["documents"].tolist() == [6]
