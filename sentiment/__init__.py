"""Sentiment analytics: the command line, settings, the warehouse layout and queries."""
