"""What the web page shows, as plain functions over the same DuckDB views the CLI uses.

Read-only: every query is a SELECT with its values bound as parameters; names of tables and
columns only ever come from fixed lists here.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import duckdb
import pandas as pd

from pipelines.manifest import read_manifests
from sentiment.query import connect, run_query, to_frame
from sentiment.trend import PERIODS, trend
from sentiment.warehouse import Warehouse
from sentiment_model import checkpoint
from sentiment_model.card import CARD
from sentiment_model.explain import explain
from sentiment_model.registry import list_models

MAX_DOCUMENTS = 200  # a drill-down page; exports take up to EXPORT_ROWS
EXPORT_ROWS = 100_000
SQL_ROWS = 10_000
REFRESH_S = 10.0  # how often the tables' directories are looked at for new partitions
REMOTE_REFRESH_S = 300.0  # on object storage, where looking costs requests: reloaded this often
IN_MEMORY = ("daily_sentiment", "hourly_sentiment", "daily_topic_sentiment", "alerts")
log = logging.getLogger(__name__)


@dataclass
class Filters:
    """What the page's controls select; each value is bound, never pasted into SQL."""

    by: str = "day"
    sources: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    lang: str | None = None
    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.by not in PERIODS:
            raise ValueError(f"by must be one of {', '.join(PERIODS)}, not {self.by!r}")
        if self.by == "hour" and self.topics:
            raise ValueError("topics have a daily grain only: choose day, week or month to see topics")


class Views:
    """One warehouse's queries and a cache of loaded models for explanations.

    The aggregate tables (a few rows a day) are read into memory when the server starts, so the
    trend answers without opening a file per day; a background thread reloads them when the
    tables change (local: the tables' directories change; object storage: every REMOTE_REFRESH_S).
    `scored` and `documents` stay views over the files, read by the days a drill-down names.
    """

    def __init__(self, warehouse: Warehouse, sql_seconds: float = 10.0, watch: bool = True):
        self.warehouse = warehouse
        self.sql_seconds = sql_seconds
        self._lock = threading.Lock()
        self._models: dict[str, checkpoint.ModelBundle] = {}
        self._manifests: tuple[float, list[dict]] | None = None
        self._signature = self._current_signature()
        self._con, self._tables, self._labels = self._open()
        if watch:
            threading.Thread(target=self._watch, name="sentiment-ui-refresh", daemon=True).start()

    def _open(self) -> tuple[duckdb.DuckDBPyConnection, set[str], list[str]]:
        con = connect(self.warehouse)
        tables = {name for (name,) in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        for name in IN_MEMORY:
            if name in tables:
                con.execute(f"CREATE TABLE memory_{name} AS SELECT * FROM {name}")
                con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM memory_{name}")
        columns = con.sql("SELECT * FROM scored LIMIT 0").columns if "scored" in tables else []
        return con, tables, [c[2:] for c in columns if c.startswith("p_")]  # the classes' probabilities

    def _current_signature(self) -> tuple | None:
        """What changes when a table gets new partitions (None on object storage: no cheap signal)."""
        if self.warehouse.remote:
            return None
        paths = [self.warehouse.aggregate(name) for name in IN_MEMORY if name != "alerts"]
        paths += [self.warehouse.alerts, self.warehouse.scored, self.warehouse.raw, self.warehouse.models]
        return tuple(p.stat().st_mtime_ns if p.exists() else 0 for p in paths)

    def _watch(self) -> None:
        last = time.monotonic()
        while True:
            time.sleep(REFRESH_S)
            try:
                signature = self._current_signature()
                due = time.monotonic() - last > REMOTE_REFRESH_S if signature is None else signature != self._signature
                if due:
                    self.refresh(signature)
                    last = time.monotonic()
            except Exception:  # noqa: BLE001  a failed reload keeps the tables it has; the next one retries
                log.exception("reloading the tables of %s failed", self.warehouse.root)

    def refresh(self, signature: tuple | None = None) -> None:
        """Reload the tables (a new connection, swapped in whole)."""
        con, tables, labels = self._open()
        with self._lock:
            self._con, self._tables, self._labels = con, tables, labels
            self._signature = signature or self._current_signature()
            self._manifests = None

    def query(self, sql: str, params: dict | None = None) -> pd.DataFrame:
        with self._lock:
            return run_query(self.warehouse, sql, params, self._con)

    def has(self, table: str) -> bool:
        return table in self._tables

    # --- what there is -------------------------------------------------------------------------------

    def meta(self) -> dict:
        if not self.has("daily_sentiment"):
            return {"empty": True, "root": str(self.warehouse.root)}
        groups = self.query(
            "SELECT source, lang, sum(documents)::BIGINT AS documents, min(date) AS first, max(date) AS last "
            "FROM daily_sentiment GROUP BY ALL ORDER BY documents DESC"
        )
        topics = []
        if self.has("daily_topic_sentiment"):
            topics = self.query(
                "SELECT topic, sum(documents)::BIGINT AS documents FROM daily_topic_sentiment "
                "GROUP BY topic ORDER BY documents DESC, topic LIMIT 200"
            ).to_dict("records")
        by_source = groups.groupby("source")["documents"].sum().sort_values(ascending=False)
        by_lang = groups.groupby("lang")["documents"].sum().sort_values(ascending=False)
        return {
            "empty": False,
            "root": str(self.warehouse.root),
            "sources": [{"name": s, "documents": int(n)} for s, n in by_source.items()],
            "languages": [{"name": s, "documents": int(n)} for s, n in by_lang.items()],
            "topics": topics,
            "first": str(groups["first"].min())[:10],
            "last": str(groups["last"].max())[:10],
            "hourly": self.has("hourly_sentiment"),
            "periods": list(PERIODS),
        }

    # --- trend ---------------------------------------------------------------------------------------

    def trend(self, filters: Filters) -> dict:
        """One series per chosen source (or topic; one for everything when none is chosen), and the
        alerts of the range."""
        if filters.topics:
            series = [("topic", t) for t in filters.topics]
        else:
            series = [("source", s) for s in filters.sources] or [("all", None)]
        out = []
        for kind, name in series:
            source = name if kind == "source" else (filters.sources[0] if len(filters.sources) == 1 else None)
            topic = name if kind == "topic" else None
            with self._lock:
                frame = trend(
                    self.warehouse, source, topic, filters.start, filters.end, filters.by, self._con, filters.lang
                )
            frame["period"] = frame["period"].astype(str).str.slice(0, 19 if filters.by == "hour" else 10)
            out.append({"name": name or "all sources", "kind": kind, "rows": _records(frame)})
        return {"by": filters.by, "series": out, "alerts": self.alerts(filters)}

    def trend_table(self, filters: Filters) -> pd.DataFrame:
        """The trend view as one table (for export): a row per series and period."""
        rows = [{"series": s["name"], **r} for s in self.trend(filters)["series"] for r in s["rows"]]
        return pd.DataFrame(rows)

    # --- documents -----------------------------------------------------------------------------------

    def documents(
        self,
        start: datetime,
        end: datetime,
        sources: list[str] | None = None,
        lang: str | None = None,
        topic: str | None = None,
        search: str | None = None,
        order: str = "negative",
        limit: int = 50,
        offset: int = 0,
    ) -> dict:
        """The scored documents published in [start, end), most negative (or positive) first, with
        their text, link and probabilities."""
        if order not in ("negative", "positive"):
            raise ValueError(f"order must be negative or positive, not {order!r}")
        if not self.has("scored"):
            return {"total": 0, "rows": []}
        start, end = _utc(start), _utc(end)
        labels = self.labels()
        probabilities = ", ".join(f"s.p_{label}" for label in labels)  # from the table's own columns
        first, last = start.date(), (end - timedelta(microseconds=1)).date()
        scored, documents = self._source("scored", first, last), self._source("documents", first, last)
        if scored is None:
            return {"total": 0, "labels": labels, "rows": []}
        text = ", d.text, d.title, d.url, d.author" if documents else ", NULL AS text"
        join = f"LEFT JOIN {documents} d ON d.doc_id = s.doc_id AND d.source = s.source AND d.date = s.date"
        join = join if documents else ""
        where = """
            WHERE s.date BETWEEN $first AND $last AND s.published_at >= $start AND s.published_at < $end
              AND ($sources IS NULL OR list_contains($sources, s.source))
              AND ($lang IS NULL OR s.lang = $lang)
              AND ($topic IS NULL OR list_contains(s.topics, $topic))
        """
        if search:
            where += " AND contains(lower(d.text), lower($search))" if join else " AND false"
        params = {
            "first": first,
            "last": last,
            "start": start,
            "end": end,
            "sources": sources or None,
            "lang": lang,
            "topic": topic,
        }
        if search:
            params["search"] = search
        direction = "ASC" if order == "negative" else "DESC"
        sql = f"""
            SELECT s.doc_id, s.published_at, s.source, s.lang, s.label, {probabilities}, s.score,
                   s.model_version, s.date, count(*) OVER () AS total{text}
            FROM {scored} s {join} {where}
            ORDER BY s.score {direction} NULLS LAST, s.doc_id
            LIMIT $limit OFFSET $offset
        """
        frame = self.query(sql, {**params, "limit": min(int(limit), EXPORT_ROWS), "offset": max(int(offset), 0)})
        total = int(frame["total"].iloc[0]) if len(frame) else 0
        frame = frame.drop(columns=["total"])
        frame["published_at"] = frame["published_at"].map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ"))
        frame["date"] = frame["date"].astype(str)
        return {"total": total, "labels": labels, "rows": _records(frame)}

    def _source(self, table: str, first: date, last: date) -> str | None:
        """What to select `table`'s rows of days first..last from: on local disk, exactly those days'
        files (listing the whole table costs ~0.5 s on the demo's 2,943 days); on object storage,
        the view (its listing was done once); None when there is nothing."""
        if not self.has(table):
            return None
        if self.warehouse.remote:
            return table
        days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
        files = self.warehouse.files_of_days(table, days)
        if not files:
            return None
        listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        return f"read_parquet([{listed}], hive_partitioning = true, union_by_name = true)"

    def labels(self) -> list[str]:
        return self._labels

    # --- why -----------------------------------------------------------------------------------------

    def explanation(self, doc_id: str, day: date, source: str) -> dict:
        """The per-token explanation of a scored document, by the model version that scored it."""
        scored, documents = self._source("scored", day, day), self._source("documents", day, day)
        found = pd.DataFrame()
        if scored and documents:
            found = self.query(
                f"SELECT d.text, s.model_version, s.label FROM {scored} s JOIN {documents} d "
                "ON d.doc_id = s.doc_id AND d.source = s.source AND d.date = s.date "
                "WHERE s.date = $day AND s.source = $source AND s.doc_id = $doc_id",
                {"day": day, "source": source, "doc_id": doc_id},
            )
        if found.empty:
            raise LookupError(f"no scored document {doc_id!r} from {source} on {day}")
        text, version, label = found.iloc[0]
        bundle = self._model(version)
        steps = explain(bundle, text)
        return {
            "doc_id": doc_id,
            "text": text,
            "label": label,
            "model_version": bundle.version,
            "scored_by": version,
            "labels": list(steps[0].probabilities),
            "steps": [step.__dict__ for step in steps],
        }

    def _model(self, version: str) -> checkpoint.ModelBundle:
        if version not in self._models:
            directory = self.warehouse.models / version
            if not (directory / checkpoint.META).is_file():  # not in the registry: the current one explains
                directory = self.warehouse.current_version_dir()
            self._models[version] = checkpoint.load(self.warehouse.local_model(directory))
        return self._models[version]

    # --- runs, model, alerts -------------------------------------------------------------------------

    def runs(self) -> dict:
        """Which model version scored which days: consecutive days of one version as one run."""
        manifests = self._read_manifests()
        spans: list[dict] = []
        for m in manifests:
            skipped = sum(m.get("skipped", {}).values())
            last = spans[-1] if spans else None
            if last and last["model_version"] == m["model_version"] and _next_day(last["to"]) == m["date"]:
                last.update(to=m["date"], days=last["days"] + 1, scored=last["scored"] + m["scored"])
                last["skipped"] += skipped
                last["written_at"] = max(last["written_at"], m.get("written_at", ""))
                continue
            spans.append(
                {
                    "from": m["date"],
                    "to": m["date"],
                    "model_version": m["model_version"],
                    "days": 1,
                    "scored": m["scored"],
                    "skipped": skipped,
                    "written_at": m.get("written_at", ""),
                }
            )
        return {"days": len(manifests), "runs": spans}

    def _read_manifests(self) -> list[dict]:
        if self._manifests is None or time.monotonic() - self._manifests[0] > REMOTE_REFRESH_S:
            self._manifests = (time.monotonic(), read_manifests(self.warehouse))
        return self._manifests[1]

    def model(self) -> dict:
        models = list_models(self.warehouse)
        card = None
        if self.warehouse.has_current_model():
            path = self.warehouse.current_version_dir() / CARD
            card = path.read_text() if path.is_file() else None
        return {"models": models, "card": card}

    def alerts(self, filters: Filters | None = None) -> list[dict]:
        if not self.has("alerts"):
            return []
        filters = filters or Filters()
        frame = self.query(
            'SELECT date, source, "check", severity, value, threshold, message FROM alerts '
            "WHERE ($start IS NULL OR date >= $start) AND ($end IS NULL OR date <= $end) "
            "AND ($sources IS NULL OR list_contains($sources, source)) ORDER BY date DESC, source LIMIT 1000",
            {"start": filters.start, "end": filters.end, "sources": filters.sources or None},
        )
        frame["date"] = frame["date"].astype(str)
        return _records(frame)

    # --- SQL (only with --allow-sql) ------------------------------------------------------------------

    def sql(self, text: str) -> pd.DataFrame:
        """One SELECT on a connection that reads only the warehouse and can change no setting,
        stopped after `sql_seconds`."""
        con = connect(self.warehouse)
        statements = con.extract_statements(text)
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            raise ValueError("only one SELECT statement is allowed")
        if not self.warehouse.remote:
            con.execute("SET allowed_directories = $dirs", {"dirs": [str(self.warehouse.root) + "/"]})
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        timer = threading.Timer(self.sql_seconds, con.interrupt)
        timer.start()
        try:
            frame = to_frame(con.sql(text).limit(SQL_ROWS))
        except duckdb.InterruptException as err:
            raise ValueError(f"the query ran past {self.sql_seconds:g} s and was stopped") from err
        except duckdb.Error as err:
            raise ValueError(str(err)) from err
        finally:
            timer.cancel()
            con.close()
        return frame


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts (NaN -> None)."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")
