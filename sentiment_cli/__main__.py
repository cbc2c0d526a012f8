"""`python -m sentiment_cli`: the `sentiment` command."""

from sentiment_cli import app

app()
