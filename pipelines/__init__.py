"""Beam pipelines that score the lake with the LSTM model and publish sentiment tables."""
