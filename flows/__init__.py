"""Prefect flows: thin orderings of tasks; the logic lives in plain, tested functions."""
