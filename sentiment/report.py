"""What the demo shows: a daily sentiment table (DuckDB) and a chart of mean score per day."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sentiment.query import run_query  # noqa: E402
from sentiment.storage import is_remote
from sentiment.warehouse import Warehouse  # noqa: E402


def daily_table(warehouse: Warehouse, start: date, end: date) -> pd.DataFrame:
    """Per day and source: documents, share negative/positive, mean score with its 95% interval."""
    return run_query(
        warehouse,
        f"""
        SELECT date, source,
               sum(documents)::BIGINT AS documents,
               round(sum(n_negative) / sum(documents), 3) AS share_negative,
               round(sum(n_positive) / sum(documents), 3) AS share_positive,
               round(sum(mean_score * documents) / sum(documents), 3) AS mean_score,
               round(min(ci95_low), 3) AS ci95_low,
               round(max(ci95_high), 3) AS ci95_high
        FROM daily_sentiment
        WHERE date BETWEEN DATE '{start}' AND DATE '{end}'
        GROUP BY date, source
        ORDER BY date, source
        """,
    )


def plot_daily(table: pd.DataFrame, path: Path, title: str) -> Path:
    """Mean score per day, one line per source, with the 95% interval shaded (`path` may be in object storage)."""
    if not is_remote(path):
        path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
    for source, rows in table.groupby("source"):
        days = pd.to_datetime(rows["date"])
        (line,) = ax.plot(
            days, rows["mean_score"], marker="o", label=f"{source} ({int(rows['documents'].sum()):,} docs)"
        )
        ax.fill_between(days, rows["ci95_low"], rows["ci95_high"], color=line.get_color(), alpha=0.15)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_ylim(-1, 1)
    ax.set_ylabel("mean score  (P(positive) − P(negative))")
    ax.set_title(title)
    ax.legend(loc="lower left")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    image = io.BytesIO()
    fig.savefig(image, format="png")
    plt.close(fig)
    path.write_bytes(image.getvalue())
    return path


def format_scoring(summary: dict) -> str:
    """A scoring summary (pipelines.score.ScoreSummary as a dict) in one sentence."""
    counters = summary.get("counters", {})
    skipped = {
        k.removeprefix("documents_skipped_"): v for k, v in counters.items() if k.startswith("documents_skipped_") and v
    }
    why = f" ({', '.join(f'{reason} {n:,}' for reason, n in sorted(skipped.items()))})" if skipped else ""
    line = (
        f"{counters.get('documents_scored', 0):,} documents scored, {counters.get('documents_skipped', 0):,} "
        f"skipped{why}, over {summary.get('days', 0)} days in {summary.get('seconds', 0):.1f} s "
        f"({summary.get('docs_per_s', 0):,.0f} docs/s)"
    )
    if summary.get("padding_efficiency") is not None:
        line += (
            f"; batches of {summary['mean_batch_size']:.0f} documents, "
            f"padding efficiency {summary['padding_efficiency']:.2f}"
        )
    return line + by_language(counters)


def by_language(counters: dict) -> str:
    """Documents scored and skipped per language, from a scoring job's counters ("" when there is one
    language and nothing skipped for its language)."""
    scored = {
        k.removeprefix("documents_given_lang_"): v
        for k, v in counters.items()
        if k.startswith("documents_given_lang_") and v
    }
    skipped = {
        k.removeprefix("documents_skipped_language_"): v
        for k, v in counters.items()
        if k.startswith("documents_skipped_language_") and v
    }
    if len(scored) <= 1 and not skipped:
        return ""

    def size(lang: str) -> tuple[int, str]:
        return -(scored.get(lang, 0) + skipped.get(lang, 0)), lang

    languages = sorted(set(scored) | set(skipped), key=size)
    parts = [
        f"{lang} {scored[lang]:,} scored"
        if lang in scored
        else f"{lang} {skipped[lang]:,} skipped (the model does not read it)"
        for lang in languages
    ]
    return "\nBy language: " + "; ".join(parts)


def format_metrics(metrics: dict) -> str:
    """The headline numbers on one line (per-class tables and matrices are left to `sentiment evaluate`)."""
    keys = ("n", "accuracy", "macro_f1", "macro_recall", "ece")
    return "  ".join(
        f"{k} {metrics[k]:.3f}" if isinstance(metrics[k], float) else f"{k} {metrics[k]}" for k in keys if k in metrics
    )
