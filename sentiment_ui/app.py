"""The web page's server: a read-only JSON API over `Views`, the page, and its scripts.

Nothing is loaded from the internet: the chart library is plotly.js as the `plotly` package from
PyPI ships it (plotly/package_data/plotly.min.js), served from here.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from importlib import resources
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from fastapi import Body, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from sentiment.warehouse import Warehouse
from sentiment_ui.views import EXPORT_ROWS, MAX_DOCUMENTS, Filters, Views

STATIC = Path(__file__).parent / "static"
CHART_LIBRARY = "plotly.min.js"


def chart_library() -> Path:
    return Path(str(resources.files("plotly") / "package_data" / CHART_LIBRARY))


def create_app(warehouse: Warehouse, allow_sql: bool = False, sql_seconds: float = 10.0) -> FastAPI:
    views = Views(warehouse, sql_seconds)
    app = FastAPI(title="sentiment", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(ValueError)
    async def bad_request(_: Request, err: ValueError):
        return JSONResponse({"error": str(err)}, status_code=400)

    @app.exception_handler(LookupError)
    async def not_found(_: Request, err: LookupError):
        return JSONResponse({"error": str(err).strip("'\"")}, status_code=404)

    @app.middleware("http")
    async def read_only(request: Request, call_next):
        if request.method not in ("GET", "HEAD") and request.url.path != "/api/sql":
            return JSONResponse({"error": "this server is read-only"}, status_code=405)
        response = await call_next(request)
        response.headers["Cache-Control"] = "no-store" if request.url.path.startswith("/api/") else "max-age=3600"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    def filters(
        by: str = "day",
        source: list[str] = Query(default=[]),
        topic: list[str] = Query(default=[]),
        lang: str | None = None,
        start: date | None = Query(default=None, alias="from"),
        end: date | None = Query(default=None, alias="to"),
    ) -> Filters:
        return Filters(by, [s for s in source if s], [t for t in topic if t], lang or None, start, end)

    @app.get("/")
    def page():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/static/{name}")
    def static(name: str):
        path = chart_library() if name == CHART_LIBRARY else STATIC / name
        if name not in {CHART_LIBRARY, "app.js", "style.css"} or not path.is_file():
            raise HTTPException(404)
        return FileResponse(path)

    @app.get("/api/meta")
    def meta():
        return {**views.meta(), "allow_sql": allow_sql}

    @app.get("/api/trend")
    def trend(chosen: Filters = Depends(filters)):
        return views.trend(chosen)

    @app.get("/api/documents")
    def documents(
        start: datetime,
        end: datetime,
        source: list[str] = Query(default=[]),
        lang: str | None = None,
        topic: str | None = None,
        q: str | None = None,
        order: str = "negative",
        limit: int = Query(default=50, ge=1, le=MAX_DOCUMENTS),
        offset: int = Query(default=0, ge=0),
    ):
        return views.documents(
            start, end, [s for s in source if s], lang or None, topic or None, q, order, limit, offset
        )

    @app.get("/api/explain")
    def explanation(doc_id: str, day: date = Query(alias="date"), source: str = Query()):
        return views.explanation(doc_id, day, source)

    @app.get("/api/runs")
    def runs():
        return views.runs()

    @app.get("/api/model")
    def model():
        return views.model()

    @app.get("/api/alerts")
    def alerts():
        return {"alerts": views.alerts()}

    @app.get("/api/export/{view}.{kind}")
    def export(
        view: str,
        kind: str,
        chosen: Filters = Depends(filters),
        window_start: datetime | None = None,
        window_end: datetime | None = None,
        q: str | None = None,
        order: str = "negative",
    ):
        """The trend (`trend.csv`, `trend.parquet`) or the documents of a window (`documents.*`)."""
        if kind not in ("csv", "parquet") or view not in ("trend", "documents"):
            raise HTTPException(404, "export trend or documents, as csv or parquet")
        if view == "trend":
            frame = views.trend_table(chosen)
        else:
            if window_start is None or window_end is None:
                raise ValueError("documents need window_start and window_end")
            rows = views.documents(
                window_start,
                window_end,
                chosen.sources,
                chosen.lang,
                chosen.topics[0] if chosen.topics else None,
                q,
                order,
                EXPORT_ROWS,
            )["rows"]
            frame = pd.DataFrame(rows)
        name = f"sentiment-{view}.{kind}"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        if kind == "csv":
            return Response(frame.to_csv(index=False), media_type="text/csv", headers=headers)
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
        return Response(buffer.getvalue(), media_type="application/vnd.apache.parquet", headers=headers)

    @app.post("/api/sql")
    def sql(body: dict = Body(...)):
        if not allow_sql:
            raise HTTPException(403, "SQL from the page is off: start `sentiment ui --allow-sql` to allow it")
        frame = views.sql(str(body.get("sql", "")))
        return {"columns": list(frame.columns), "rows": frame.astype(str).values.tolist()}

    app.state.views = views
    return app
