"""The front door: the `sentiment` command line, one module per concern (ops, ingest, model, score,
query, ui); each registers its commands on the one app, in the order `--help` lists them. The stages
below (ingestion, pipelines, sentiment_model, flows) and the ground (sentiment) never import from here."""

# isort: off
from sentiment_cli import ops, ingest, model, score, query, ui  # noqa: F401  (registers the commands)
from sentiment_cli.common import app

# isort: on

__all__ = ["app"]
