"""A finished Beam job's counters, summed by name (committed where the runner reports them, else attempted)."""

from __future__ import annotations

from apache_beam.metrics.metric import MetricsFilter


def counter_totals(result, namespace: str) -> dict[str, int]:
    """Every counter of `namespace` in the job's result, summed over steps: name -> total."""
    totals: dict[str, int] = {}
    for counter in result.metrics().query(MetricsFilter().with_namespace(namespace))["counters"]:
        value = counter.committed if counter.committed is not None else counter.attempted
        totals[counter.key.metric.name] = totals.get(counter.key.metric.name, 0) + (value or 0)
    return totals
