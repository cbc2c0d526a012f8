"""The command line, through Typer's runner, against real files."""

import json

import pytest
from typer.testing import CliRunner

from sentiment_cli import app
from tests.factories import make_lake

runner = CliRunner()


@pytest.fixture
def home(tmp_path, tiny_model):
    return make_lake(tmp_path, tiny_model).root


def test_help_explains_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("demo", "ingest", "train", "evaluate", "predict", "score", "query", "datasets"):
        assert command in result.output


def test_evaluate_json(tiny_model, labelled_dir):
    test_file = str(labelled_dir / "test.parquet")
    result = runner.invoke(app, ["evaluate", "--model", str(tiny_model), "--data", test_file, "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"accuracy", "macro_f1", "macro_recall", "per_class", "confusion", "ece"} <= set(metrics)
    assert metrics["n"] == 60


def test_evaluate_table_and_confusion_png(tiny_model, labelled_dir, tmp_path):
    test_file = str(labelled_dir / "test.parquet")
    png = tmp_path / "cm.png"
    result = runner.invoke(app, ["evaluate", "--model", str(tiny_model), "--data", test_file, "--png", str(png)])
    assert result.exit_code == 0, result.output
    assert "confusion matrix" in result.stdout and "neutral" in result.stdout
    assert png.stat().st_size > 5000


def test_predict_uses_the_current_model(home):
    result = runner.invoke(app, ["predict", "--home", str(home), "--json", "love great thanks", "hate awful"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [r["label"] for r in rows] == ["positive", "negative"]
    spanish = runner.invoke(app, ["predict", "--home", str(home), "¡Qué maravilla de día, me encanta!"])
    assert spanish.exit_code == 0 and "this text looks es; the model reads en: its label means little" in spanish.output


def test_score_then_query_in_every_format(home):
    scored = runner.invoke(
        app,
        ["score", "--home", str(home), "--from", "2015-02-17", "--to", "2015-02-20", "--json", "--runner=FnApiRunner"],
    )
    assert scored.exit_code == 0, scored.output
    summary = json.loads(scored.stdout.strip().splitlines()[-1])
    assert summary["counters"]["documents_scored"] == 71

    sql = "SELECT source, sum(documents) AS n FROM daily_sentiment GROUP BY source ORDER BY source"
    as_json = runner.invoke(app, ["query", sql, "--home", str(home), "--format", "json"])
    assert json.loads(as_json.stdout) == [{"source": "reddit_worldnews", "n": 11}, {"source": "twitter", "n": 60}]
    as_csv = runner.invoke(app, ["query", sql, "--home", str(home), "--format", "csv"])
    assert as_csv.stdout.splitlines() == ["source,n", "reddit_worldnews,11", "twitter,60"]
    as_table = runner.invoke(app, ["query", sql, "--home", str(home)])
    assert "reddit_worldnews" in as_table.stdout and "60" in as_table.stdout


def test_query_of_an_unknown_table_names_the_tables_there_are(home):
    result = runner.invoke(app, ["query", "SELECT * FROM nope", "--home", str(home)])
    assert result.exit_code == 2
    assert "documents" in result.output and "quarantine" in result.output


def test_train_dry_run(labelled_dir, tmp_path):
    result = runner.invoke(app, ["train", "--data", str(labelled_dir), "--out", str(tmp_path / "m"), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "m" / "weights.pt").is_file()


def test_train_the_general_dataset(tmp_path):
    result = runner.invoke(
        app,
        ["train", "--dataset", "general", "--out", str(tmp_path / "m"), "--dry-run", "--home", str(tmp_path / "wh")],
    )
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["labels"] == ["negative", "neutral", "positive"] and "airline_tweets" in meta["data"]["mix"]
    assert "Sources (general mix" in (tmp_path / "m" / "MODEL_CARD.md").read_text()


def test_train_from_a_config_file_and_a_single_parquet(labelled_dir, tmp_path):
    config = tmp_path / "train.toml"
    config.write_text("epochs = 1\nembed_dim = 16\nhidden_dim = 16\nmin_freq = 1\n")
    result = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(labelled_dir / "train.parquet"),
            "--out",
            str(tmp_path / "m"),
            "--config",
            str(config),
            "--max-tokens",
            "32",
            "--home",
            str(tmp_path / "wh"),
            "--embeddings",
            "none",
        ],
    )  # nothing written outside tmp_path
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["model_config"]["hidden_dim"] == 16 and meta["max_tokens"] == 32
    assert "of train.parquet" in meta["data"]["validation_source"]


def test_train_needs_data_or_dataset(tmp_path):
    result = runner.invoke(app, ["train", "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "--dataset" in result.output


def test_train_bad_data_dir_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["train", "--data", str(tmp_path), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2 and "train.parquet" in result.output


def test_models_list_marks_the_current_model(home):
    result = runner.invoke(app, ["models", "list", "--home", str(home)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("* ") and "accuracy" in result.stdout


def test_models_import_copies_a_model_into_the_registry_and_can_make_it_current(tmp_path, tiny_model):
    import shutil

    trained = tmp_path / "laptop-model"
    shutil.copytree(tiny_model, trained)
    home = tmp_path / "wh"
    result = runner.invoke(app, ["models", "import", str(trained), "--home", str(home)])
    assert result.exit_code == 0, result.output
    assert "(reads en)" in result.stdout and "current" not in result.stdout
    listed = runner.invoke(app, ["models", "list", "--home", str(home), "--json"])
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(rows) == 1 and not rows[0]["current"] and trained.is_dir()  # copied, the original stays
    again = runner.invoke(app, ["models", "import", str(trained), "--current", "--home", str(home)])
    assert again.exit_code == 0 and "now current" in again.stdout
    rows = [
        json.loads(line)
        for line in runner.invoke(app, ["models", "list", "--home", str(home), "--json"]).stdout.splitlines()
    ]
    assert len(rows) == 1 and rows[0]["current"]  # the same version is not copied twice
    bad = runner.invoke(app, ["models", "import", str(tmp_path), "--home", str(home)])
    assert bad.exit_code == 2 and "not a model directory" in bad.output
