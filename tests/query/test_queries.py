"""Queries: bound parameters, output formats, trend, a second engine, the Python API."""

import json

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pipelines.score import ScoreJob, score_range
from sentiment.api import open_warehouse
from sentiment_cli import app
from tests.factories import make_lake

runner = CliRunner()


@pytest.fixture(scope="module")
def home(tmp_path_factory, tiny_model):
    wh = make_lake(tmp_path_factory.mktemp("q"), tiny_model)
    score_range(ScoreJob(home=wh.root, start="2015-02-17", end="2015-02-20"))
    return wh.root


def test_parameters_are_bound_not_pasted(home):
    wh = open_warehouse(home)
    sql = "SELECT count(*) AS n FROM scored WHERE source = $s"
    assert wh.sql(sql, {"s": "twitter"})["n"][0] == 60
    assert wh.sql(sql, {"s": "twitter' OR '1'='1"})["n"][0] == 0  # an injection attempt is just a value
    assert wh.trend(source="x' OR '1'='1").empty


def test_trend_pools_days_into_weeks(home):
    wh = open_warehouse(home)
    days = wh.trend(source="twitter", by="day")
    weeks = wh.trend(source="twitter", by="week")
    assert days["documents"].sum() == weeks["documents"].sum() == 60
    mean = (days["mean_score"] * days["documents"]).sum() / days["documents"].sum()
    assert abs(weeks["mean_score"].iloc[0] - mean) < 1e-3 or len(weeks) > 1
    assert (weeks["ci95_low"] <= weeks["mean_score"]).all() and (weeks["mean_score"] <= weeks["ci95_high"]).all()
    with pytest.raises(ValueError, match="--by"):
        wh.trend(by="year")


def test_trend_by_hour_splits_days_into_utc_hours(home, tmp_path):
    wh = open_warehouse(home)
    days = wh.trend(source="twitter", by="day")
    hours = wh.trend(source="twitter", by="hour")
    assert hours["documents"].sum() == 60 and len(hours) > len(days)
    assert (hours["period"].dt.minute == 0).all() and hours["period"].is_monotonic_increasing
    per_day = hours.groupby(hours["period"].dt.date)["documents"].sum()
    assert per_day.tolist() == days["documents"].tolist()  # each hour inside its UTC day
    with pytest.raises(ValueError, match="daily grain"):
        wh.trend(topic="#delay", by="hour")
    chart = tmp_path / "h.png"
    result = runner.invoke(app, ["trend", "--home", str(home), "--by", "hour", "--chart", str(chart)])
    assert result.exit_code == 0, result.output
    assert "period" in result.stdout and chart.stat().st_size > 10_000


def test_trend_cli_table_and_chart(home, tmp_path):
    chart = tmp_path / "t.png"
    result = runner.invoke(
        app, ["trend", "--home", str(home), "--source", "twitter", "--format", "json", "--chart", str(chart)]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout.strip().splitlines()[0])
    assert sum(r["documents"] for r in rows) == 60 and chart.stat().st_size > 10_000


def test_query_parquet_out_and_params(home, tmp_path):
    out = tmp_path / "r.parquet"
    result = runner.invoke(
        app,
        [
            "query",
            "SELECT source, count(*) AS n FROM scored WHERE date >= $d GROUP BY 1",
            "--param",
            "d=2015-02-18",
            "--home",
            str(home),
            "--format",
            "parquet",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(pq.read_table(out).to_pylist(), key=lambda r: r["source"])[0]["source"] == "reddit_worldnews"


def test_malformed_sql_gets_duckdbs_message_not_a_traceback(home):
    result = runner.invoke(app, ["query", "SELEC nonsense", "--home", str(home)])
    assert result.exit_code == 2 and "syntax error" in result.output.lower()
    assert "Traceback" not in result.output


def test_a_second_engine_reads_the_tables(home):
    """pyarrow's dataset reader (the hive layout Spark, Trino and polars read too)."""
    daily = ds.dataset(home / "aggregates" / "daily_sentiment", format="parquet", partitioning="hive").to_table()
    scored = ds.dataset(home / "scored", format="parquet", partitioning="hive").to_table()
    assert sum(daily.column("documents").to_pylist()) == scored.num_rows == 71
    assert set(scored.column("source").to_pylist()) == {"twitter", "reddit_worldnews"}
    assert open_warehouse(home).arrow("SELECT sum(documents) AS n FROM daily_sentiment").column("n")[0].as_py() == 71
