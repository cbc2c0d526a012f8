"""The web page's JSON API on a small scored warehouse: filters, hourly grain, drill-down order,
explanations, exports, and that it is read-only."""

import io
from datetime import date

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from sentiment.checks import Alert, write_alerts
from sentiment_ui.app import create_app


@pytest.fixture(scope="module")
def warehouse(scored_lake):
    wh = scored_lake
    write_alerts(wh, date(2015, 2, 18), [Alert("twitter", "volume", "warning", 4.2, 3.0, "volume z-score 4.2")])
    return wh


@pytest.fixture(scope="module")
def client(warehouse):
    return TestClient(create_app(warehouse))


def test_meta_lists_sources_languages_and_range(client):
    meta = client.get("/api/meta").json()
    assert [s["name"] for s in meta["sources"]] == ["twitter", "reddit_worldnews"]
    assert sum(s["documents"] for s in meta["sources"]) == 71
    assert meta["first"] == "2015-02-17" and meta["last"] == "2015-02-20"
    assert meta["hourly"] is True and meta["allow_sql"] is False and "hour" in meta["periods"]


def test_trend_by_day_and_hour_with_a_series_per_source(client):
    day = client.get("/api/trend", params={"by": "day", "source": ["twitter", "reddit_worldnews"]}).json()
    assert [s["name"] for s in day["series"]] == ["twitter", "reddit_worldnews"]
    assert sum(r["documents"] for r in day["series"][0]["rows"]) == 60
    assert day["series"][0]["rows"][0]["period"] == "2015-02-17"
    hour = client.get("/api/trend", params={"by": "hour", "source": "twitter"}).json()
    assert "series" in hour, hour
    rows = hour["series"][0]["rows"]
    assert sum(r["documents"] for r in rows) == 60 and len(rows) > len(day["series"][0]["rows"])
    assert rows[0]["period"].endswith(":00:00") and len(rows[0]["period"]) == 19
    assert all(r["ci95_low"] <= r["mean_score"] <= r["ci95_high"] for r in rows if r["ci95_low"] is not None)
    assert [a["check"] for a in day["alerts"]] == ["volume"]  # marked on the timeline
    narrowed = client.get("/api/trend", params={"from": "2015-02-18", "to": "2015-02-18"}).json()
    assert [r["period"] for r in narrowed["series"][0]["rows"]] == ["2015-02-18"]
    assert narrowed["series"][0]["name"] == "all sources"


def test_trend_rejects_what_it_cannot_answer(client):
    response = client.get("/api/trend", params={"by": "year"})
    assert response.status_code == 400 and "by must be one of" in response.json()["error"]
    response = client.get("/api/trend", params={"by": "hour", "topic": "#delay"})
    assert response.status_code == 400 and "daily grain" in response.json()["error"]


def test_documents_of_a_window_most_negative_or_positive_first(client, warehouse):
    params = {"start": "2015-02-17T00:00:00Z", "end": "2015-02-18T00:00:00Z", "source": "twitter"}
    negative = client.get("/api/documents", params=params).json()
    positive = client.get("/api/documents", params={**params, "order": "positive"}).json()
    scores = [r["score"] for r in negative["rows"]]
    assert negative["total"] == len(scores) > 3 and scores == sorted(scores)
    assert [r["score"] for r in positive["rows"]] == sorted(scores, reverse=True)
    first = negative["rows"][0]
    assert first["text"] and first["source"] == "twitter" and first["model_version"]
    assert first["published_at"].startswith("2015-02-17T") and first["label"] in negative["labels"]
    assert abs(sum(first[f"p_{label}"] for label in negative["labels"]) - 1) < 1e-5
    # an hour: only the documents published in it
    hour = client.get(
        "/api/documents", params={**params, "start": "2015-02-17T08:00:00Z", "end": "2015-02-17T09:00:00Z"}
    )
    assert all(r["published_at"].startswith("2015-02-17T08") for r in hour.json()["rows"])
    # a text search, bound as a value
    word = first["text"].split()[0]
    found = client.get("/api/documents", params={**params, "q": word.upper()}).json()
    assert 1 <= found["total"] <= negative["total"] and all(word.lower() in r["text"].lower() for r in found["rows"])
    assert client.get("/api/documents", params={**params, "q": "x' OR '1'='1"}).json()["total"] == 0
    assert client.get("/api/documents", params={**params, "order": "sideways"}).status_code == 400


def test_explanation_of_a_document(client):
    doc = client.get(
        "/api/documents", params={"start": "2015-02-17T00:00:00Z", "end": "2015-02-21T00:00:00Z", "limit": 1}
    ).json()["rows"][0]
    why = client.get("/api/explain", params={"doc_id": doc["doc_id"], "date": doc["date"], "source": doc["source"]})
    assert why.status_code == 200, why.text
    body = why.json()
    assert body["text"] == doc["text"] and body["scored_by"] == doc["model_version"]
    step = body["steps"][-1]
    assert set(step["probabilities"]) == set(body["labels"]) and 0 < step["forget_gate"] < 1
    assert body["steps"][-1]["probabilities"][doc["label"]] == pytest.approx(doc[f"p_{doc['label']}"], abs=1e-3)
    missing = client.get("/api/explain", params={"doc_id": "nope", "date": "2015-02-17", "source": "twitter"})
    assert missing.status_code == 404 and "no scored document" in missing.json()["error"]


def test_runs_model_card_and_alerts(client):
    runs = client.get("/api/runs").json()
    assert runs["days"] == 4 and len(runs["runs"]) == 1
    assert runs["runs"][0]["from"] == "2015-02-17" and runs["runs"][0]["to"] == "2015-02-20"
    assert runs["runs"][0]["scored"] == 71
    model = client.get("/api/model").json()
    assert model["models"][0]["current"] and model["card"].startswith("# Sentiment model")
    assert client.get("/api/alerts").json()["alerts"][0]["message"] == "volume z-score 4.2"


def test_exports_hold_the_view(client):
    view = {"by": "day", "source": ["twitter", "reddit_worldnews"]}
    csv = client.get("/api/export/trend.csv", params=view)
    assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]
    lines = csv.text.strip().splitlines()
    series = client.get("/api/trend", params=view).json()["series"]
    assert lines[0].startswith("series,period,documents") and len(lines) == 1 + sum(len(s["rows"]) for s in series)
    assert lines[1].startswith("twitter,2015-02-17,")
    parquet = client.get(
        "/api/export/documents.parquet",
        params={"window_start": "2015-02-17T00:00:00Z", "window_end": "2015-02-21T00:00:00Z"},
    )
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.num_rows == 71 and "text" in table.column_names


def test_read_only_and_sql_only_when_allowed(client, warehouse):
    assert client.post("/api/trend").status_code == 405
    refused = client.post("/api/sql", json={"sql": "SELECT 1"})
    assert refused.status_code == 403 and "--allow-sql" in refused.json()["detail"]
    allowed = TestClient(create_app(warehouse, allow_sql=True, sql_seconds=2))
    ok = allowed.post("/api/sql", json={"sql": "SELECT sum(documents) AS n FROM daily_sentiment"})
    assert ok.json() == {"columns": ["n"], "rows": [["71"]]}
    for statement in (
        "CREATE TABLE t AS SELECT 1",
        "COPY (SELECT 1) TO 'x.csv'",
        "SELECT 1; SELECT 2",
        "SET enable_external_access = true",
    ):
        response = allowed.post("/api/sql", json={"sql": statement})
        assert response.status_code == 400 and "one SELECT" in response.json()["error"], statement
    outside = allowed.post("/api/sql", json={"sql": "SELECT * FROM read_csv('/etc/passwd')"})
    assert outside.status_code == 400 and "Permission" in outside.json()["error"]
    slow = allowed.post("/api/sql", json={"sql": "SELECT count(*) FROM range(100000000000) a"})
    assert slow.status_code == 400 and "stopped" in slow.json()["error"]


def test_the_page_and_its_scripts_come_from_this_server(client):
    page = client.get("/")
    assert page.status_code == 200 and '<script src="/static/plotly.min.js">' in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from the internet
    assert (
        client.get("/static/plotly.min.js").content.startswith(b"/**")
        or len(client.get("/static/plotly.min.js").content) > 1_000_000
    )
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/../views.py").status_code == 404


def test_the_page_sees_new_partitions_when_the_tables_change(warehouse):
    from sentiment_ui.views import Views

    views = Views(warehouse, watch=False)
    before = len(views.alerts())
    assert views._current_signature() == views._signature  # nothing changed: nothing to reload
    write_alerts(warehouse, date(2015, 2, 19), [Alert("reddit_worldnews", "drift", "warning", 0.3, 0.2, "moved")])
    assert views._current_signature() != views._signature and len(views.alerts()) == before  # still in memory
    views.refresh()
    assert len(views.alerts()) == before + 1 and views.alerts()[0]["message"] == "moved"
