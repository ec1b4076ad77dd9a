"""A stateful, in-memory fake of the Coda API v1, served over real HTTP on 127.0.0.1.

It keeps docs, pages (with Markdown content), tables, columns and rows; applies row and
page writes asynchronously (202 + ``requestId``, visible in ``/mutationStatus`` once
applied); exports pages through a separate download URL that refuses bearer tokens; pages
every listing with opaque ``pageToken`` values; and enforces Coda's rate limits the
strictest way -- at most N requests of a class in *any* window of T seconds, counted when
the request arrives -- answering 429 with ``Retry-After`` beyond that.

Simplifications (documented, not hidden): only the operations the integration tests use
are routed (others answer 404 like an unknown path would); ``rich`` values are wrapped in a
``{"@type": "RichValue", "value": ...}`` object so that tests can see the format was passed
through; the limit classification below is the fake's own, written independently of the
client's table.
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

API_PREFIX = "/apis/v1"

DEFAULT_LIMITS: dict[str, tuple[int, float]] = {
    "read": (100, 6.0),
    "write": (10, 6.0),
    "write_doc_content": (5, 10.0),
    "list_docs": (4, 6.0),
    "analytics": (100, 6.0),
}

Reply = tuple[int, dict[str, str], Any]


class _HTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    body = {"statusCode": status, "statusMessage": _REASONS.get(status, "Error"), "message": message}
    return status, dict(headers or {}), body


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


@dataclass
class _Table:
    id: str
    name: str
    columns: list[dict[str, Any]]
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # row id -> {"values": {col id: v}, ...}


@dataclass
class _Doc:
    id: str
    name: str
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    tables: dict[str, _Table] = field(default_factory=dict)


class FakeCoda:
    """The state and the request handling (thread-safe; one lock around everything)."""

    def __init__(
        self,
        *,
        token: str = "fake-coda-token",
        limits: dict[str, tuple[int, float]] | None = None,
        mutation_delay: float = 0.03,
        export_polls: int = 2,
    ) -> None:
        self.token = token
        self.limits = dict(limits or DEFAULT_LIMITS)
        self.mutation_delay = mutation_delay
        self.export_polls = export_polls
        self.origin = ""  # set by serve(): http://127.0.0.1:<port>
        self.lock = threading.RLock()
        self.docs: dict[str, _Doc] = {}
        self.mutations: dict[str, dict[str, Any]] = {}
        self.exports: dict[str, dict[str, Any]] = {}
        self.windows: dict[str, deque[float]] = {name: deque() for name in self.limits}
        self.status_counts: Counter[int] = Counter()
        self.class_counts: Counter[str] = Counter()
        self.download_authorization: list[str | None] = []
        self.fail_next: deque[tuple[str, int]] = deque()  # (method, status) injected failures
        self._ids = itertools.count(1)
        self._seed()

    # -- helpers ---------------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    def _seed(self) -> None:
        doc = _Doc(id="doc-seed", name="Seed doc")
        columns = [
            {"id": "c-name", "name": "Name", "display": True, "calculated": False, "format": {"type": "text"}},
            {"id": "c-status", "name": "Status", "display": False, "calculated": False, "format": {"type": "text"}},
            {"id": "c-points", "name": "Points", "display": False, "calculated": False, "format": {"type": "number"}},
        ]
        doc.tables["grid-tasks"] = _Table(id="grid-tasks", name="Tasks", columns=columns)
        doc.pages["canvas-home"] = {"id": "canvas-home", "name": "Home", "subtitle": "", "content": "# Home\n"}
        self.docs[doc.id] = doc

    def add_table(self, doc_id: str, table_id: str, name: str, columns: list[dict[str, Any]]) -> None:
        """Add an empty table (columns: ``id``, ``name`` and optionally ``format``...)."""
        with self.lock:
            self.docs[doc_id].tables[table_id] = _Table(id=table_id, name=name, columns=columns)

    @property
    def base_url(self) -> str:
        return self.origin + API_PREFIX

    def rate_class(self, method: str, path: str) -> str:
        """The fake's own reading of Coda's limit classes."""
        if method == "GET" and path == "/docs":
            return "list_docs"
        if path.startswith("/analytics"):
            return "analytics"
        if method == "GET":
            return "read"
        if re.fullmatch(r"/docs/[^/]+/pages(/[^/]+(/content)?)?", path):
            return "write_doc_content"
        return "write"

    def _admit(self, rate_class: str, now: float) -> float | None:
        """Count a request in its sliding window; the seconds to wait when it is over limit."""
        limit = self.limits.get(rate_class)
        if limit is None:
            return None
        count, period = limit
        window = self.windows[rate_class]
        while window and window[0] <= now - period:
            window.popleft()
        if len(window) >= count:
            return max(0.0, window[0] + period - now)
        window.append(now)
        return None

    def _apply_due(self, now: float) -> None:
        for mutation in self.mutations.values():
            if not mutation["done"] and mutation["due"] <= now:
                mutation["apply"]()
                mutation["done"] = True

    def _mutation(self, apply: Callable[[], None], now: float) -> str:
        request_id = self._new_id("mutate")
        self.mutations[request_id] = {"due": now + self.mutation_delay, "apply": apply, "done": False}
        return request_id

    def _doc(self, doc_id: str) -> _Doc:
        doc = self.docs.get(doc_id)
        if doc is None:
            raise _HTTPError(404, f"doc {doc_id} does not exist")
        return doc

    def _by_id_or_name(self, items: dict[str, Any], key: str, what: str) -> Any:
        if key in items:
            return items[key]
        for item in items.values():
            name = item.name if isinstance(item, _Table) else item.get("name")
            if name == key:
                return item
        raise _HTTPError(404, f"{what} {key} does not exist")

    def _column(self, table: _Table, key: str) -> dict[str, Any]:
        for column in table.columns:
            if key in (column["id"], column["name"]):
                return column
        raise _HTTPError(400, f"unknown column {key}")

    def _page_of(self, items: list[Any], query: dict[str, str], default: int, path: str) -> dict[str, Any]:
        offset = 0
        token = query.get("pageToken")
        if token:
            try:
                offset = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("o:"))
            except ValueError:
                raise _HTTPError(400, "invalid pageToken") from None
        limit = int(query.get("limit") or default)
        if limit < 1:
            raise _HTTPError(400, "limit must be positive")
        chunk = items[offset : offset + limit]
        out: dict[str, Any] = {"items": chunk, "href": self.base_url + path}
        if offset + limit < len(items):
            next_token = base64.urlsafe_b64encode(f"o:{offset + limit}".encode()).decode()
            out["nextPageToken"] = next_token
            out["nextPageLink"] = f"{self.base_url}{path}?pageToken={next_token}"
        return out

    # -- representations ------------------------------------------------------------------

    def _doc_json(self, doc: _Doc) -> dict[str, Any]:
        return {
            "id": doc.id,
            "type": "doc",
            "href": f"{self.base_url}/docs/{doc.id}",
            "browserLink": f"https://coda.example/d/{doc.id}",
            "name": doc.name,
            "owner": "owner@example.com",
            "ownerName": "Owner",
            "createdAt": "2024-01-02T03:04:05.000Z",
            "updatedAt": _now_iso(),
            "workspaceId": "ws-1",
            "folderId": "fl-1",
            "workspace": {"id": "ws-1", "type": "workspace", "browserLink": "https://coda.example/ws"},
            "folder": {"id": "fl-1", "type": "folder", "browserLink": "https://coda.example/fl"},
            "someFieldCodaAddedLater": {"nested": True},
        }

    def _page_json(self, doc: _Doc, page: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": page["id"],
            "type": "page",
            "href": f"{self.base_url}/docs/{doc.id}/pages/{page['id']}",
            "browserLink": f"https://coda.example/d/{doc.id}/{page['id']}",
            "name": page["name"],
            "subtitle": page.get("subtitle", ""),
            "contentType": "canvas",
            "isHidden": False,
            "isEffectivelyHidden": False,
            "children": [],
        }

    def _table_json(self, doc: _Doc, table: _Table) -> dict[str, Any]:
        return {
            "id": table.id,
            "type": "table",
            "tableType": "table",
            "href": f"{self.base_url}/docs/{doc.id}/tables/{table.id}",
            "browserLink": f"https://coda.example/d/{doc.id}#{table.id}",
            "name": table.name,
            "rowCount": len(table.rows),
            "displayColumn": {"id": table.columns[0]["id"], "type": "column"},
            "createdAt": "2024-01-02T03:04:05.000Z",
            "updatedAt": _now_iso(),
        }

    def _column_json(self, doc: _Doc, table: _Table, column: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "column",
            "href": f"{self.base_url}/docs/{doc.id}/tables/{table.id}/columns/{column['id']}",
            **column,
        }

    def _row_json(self, doc: _Doc, table: _Table, row: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
        by_name = query.get("useColumnNames") == "true"
        rich = query.get("valueFormat") == "rich"
        values: dict[str, Any] = {}
        for column in table.columns:
            if column["id"] not in row["values"]:
                continue
            value = row["values"][column["id"]]
            values[column["name"] if by_name else column["id"]] = (
                {"@type": "RichValue", "value": value} if rich else value
            )
        return {
            "id": row["id"],
            "type": "row",
            "href": f"{self.base_url}/docs/{doc.id}/tables/{table.id}/rows/{row['id']}",
            "name": str(row["values"].get(table.columns[0]["id"], "")),
            "index": row["index"],
            "browserLink": f"https://coda.example/d/{doc.id}#{table.id}/{row['id']}",
            "createdAt": row["createdAt"],
            "updatedAt": row["updatedAt"],
            "values": values,
        }

    # -- entry point ----------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Message, body: bytes) -> Reply:
        now = time.monotonic()
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if parts.path.startswith("/_download/"):
            return self._download(parts.path.removeprefix("/_download/"), headers)
        if not parts.path.startswith(API_PREFIX + "/"):
            return _error(404, "unknown path")
        path = parts.path.removeprefix(API_PREFIX)
        with self.lock:
            if headers.get("Authorization") != f"Bearer {self.token}":
                return _error(401, "invalid or missing API token")
            rate_class = self.rate_class(method, path)
            wait = self._admit(rate_class, now)
            if wait is not None:
                self.status_counts[429] += 1
                return _error(429, "rate limit exceeded", {"Retry-After": f"{wait:.3f}"})
            self.class_counts[rate_class] += 1
            if self.fail_next and self.fail_next[0][0] == method:
                _, status = self.fail_next.popleft()
                self.status_counts[status] += 1
                return _error(status, "injected failure")
            self._apply_due(now)
            try:
                payload: Any = json.loads(body) if body else None
            except ValueError:
                return _error(400, "body is not JSON")
            try:
                status, out_headers, out = self._route(method, path, query, payload, now)
            except _HTTPError as exc:
                status, out_headers, out = _error(exc.status, exc.message)
            self.status_counts[status] += 1
            return status, out_headers, out

    def _route(self, method: str, path: str, query: dict[str, str], payload: Any, now: float) -> Reply:
        segments = [unquote(s) for s in path.strip("/").split("/")]
        for pattern, handler in self._routes():
            if len(pattern) - 1 != len(segments) or pattern[0] != method:
                continue
            args: list[str] = []
            for want, got in zip(pattern[1:], segments, strict=True):
                if want == "*":
                    args.append(got)
                elif want != got:
                    break
            else:
                return handler(*args, query=query, payload=payload, now=now)  # type: ignore[operator]
        return _error(404, f"no route for {method} {path}")

    def _routes(self) -> Iterator[tuple[tuple[str, ...], Callable[..., Reply]]]:
        yield ("GET", "whoami"), self.whoami
        yield ("GET", "docs"), self.list_docs
        yield ("POST", "docs"), self.create_doc
        yield ("GET", "docs", "*"), self.get_doc
        yield ("DELETE", "docs", "*"), self.delete_doc
        yield ("GET", "docs", "*", "pages"), self.list_pages
        yield ("POST", "docs", "*", "pages"), self.create_page
        yield ("GET", "docs", "*", "pages", "*"), self.get_page
        yield ("POST", "docs", "*", "pages", "*", "export"), self.begin_export
        yield ("GET", "docs", "*", "pages", "*", "export", "*"), self.export_status
        yield ("GET", "docs", "*", "tables"), self.list_tables
        yield ("GET", "docs", "*", "tables", "*"), self.get_table
        yield ("GET", "docs", "*", "tables", "*", "columns"), self.list_columns
        yield ("GET", "docs", "*", "tables", "*", "columns", "*"), self.get_column
        yield ("GET", "docs", "*", "tables", "*", "rows"), self.list_rows
        yield ("POST", "docs", "*", "tables", "*", "rows"), self.upsert_rows
        yield ("DELETE", "docs", "*", "tables", "*", "rows"), self.delete_rows
        yield ("GET", "docs", "*", "tables", "*", "rows", "*"), self.get_row
        yield ("PUT", "docs", "*", "tables", "*", "rows", "*"), self.update_row
        yield ("DELETE", "docs", "*", "tables", "*", "rows", "*"), self.delete_row
        yield ("GET", "mutationStatus", "*"), self.mutation_status

    # -- handlers ---------------------------------------------------------------------------

    def whoami(self, **_: Any) -> Reply:
        return (
            200,
            {},
            {
                "name": "Fake User",
                "loginId": "user@example.com",
                "type": "user",
                "scoped": False,
                "tokenName": "tests",
                "href": f"{self.base_url}/whoami",
                "workspace": {"id": "ws-1"},
            },
        )

    def list_docs(self, *, query: dict[str, str], **_: Any) -> Reply:
        text = query.get("query", "").lower()
        docs = [self._doc_json(d) for d in self.docs.values() if text in d.name.lower()]
        return 200, {}, self._page_of(docs, query, 25, "/docs")

    def create_doc(self, *, payload: Any, now: float, **_: Any) -> Reply:
        title = (payload or {}).get("title") or "Untitled"
        doc = _Doc(id=self._new_id("doc"), name=title)
        doc.pages["canvas-1"] = {"id": "canvas-1", "name": "Page 1", "subtitle": "", "content": ""}
        self.docs[doc.id] = doc
        request_id = self._mutation(lambda: None, now)
        return 201, {}, {**self._doc_json(doc), "requestId": request_id}

    def get_doc(self, doc_id: str, **_: Any) -> Reply:
        return 200, {}, self._doc_json(self._doc(doc_id))

    def delete_doc(self, doc_id: str, **_: Any) -> Reply:
        self._doc(doc_id)
        del self.docs[doc_id]
        return 202, {}, {}

    def list_pages(self, doc_id: str, *, query: dict[str, str], **_: Any) -> Reply:
        doc = self._doc(doc_id)
        pages = [self._page_json(doc, p) for p in doc.pages.values()]
        return 200, {}, self._page_of(pages, query, 25, f"/docs/{doc_id}/pages")

    def create_page(self, doc_id: str, *, payload: Any, now: float, **_: Any) -> Reply:
        doc = self._doc(doc_id)
        payload = payload or {}
        page_id = self._new_id("canvas")
        content = ""
        page_content = payload.get("pageContent") or {}
        if page_content.get("type") == "canvas":
            content = str(page_content.get("canvasContent", {}).get("content", ""))
        page = {
            "id": page_id,
            "name": payload.get("name") or "Untitled",
            "subtitle": payload.get("subtitle") or "",
            "content": content,
        }

        def apply() -> None:
            doc.pages[page_id] = page

        return 202, {}, {"requestId": self._mutation(apply, now), "id": page_id}

    def get_page(self, doc_id: str, page_key: str, **_: Any) -> Reply:
        doc = self._doc(doc_id)
        return 200, {}, self._page_json(doc, self._by_id_or_name(doc.pages, page_key, "page"))

    def begin_export(self, doc_id: str, page_key: str, *, payload: Any, **_: Any) -> Reply:
        doc = self._doc(doc_id)
        page = self._by_id_or_name(doc.pages, page_key, "page")
        output = (payload or {}).get("outputFormat")
        if output not in ("html", "markdown"):
            raise _HTTPError(400, "outputFormat must be html or markdown")
        export_id = self._new_id("export")
        self.exports[export_id] = {
            "polls": self.export_polls,
            "content": page["content"],
            "format": output,
            "doc": doc_id,
            "page": page["id"],
        }
        href = f"{self.base_url}/docs/{doc_id}/pages/{page['id']}/export/{export_id}"
        return 202, {}, {"id": export_id, "status": "inProgress", "href": href}

    def export_status(self, doc_id: str, page_key: str, export_id: str, **_: Any) -> Reply:
        export = self.exports.get(export_id)
        if export is None:
            raise _HTTPError(404, "no such export")
        href = f"{self.base_url}/docs/{doc_id}/pages/{page_key}/export/{export_id}"
        if export["polls"] > 0:
            export["polls"] -= 1
            return 200, {}, {"id": export_id, "status": "inProgress", "href": href}
        link = f"{self.origin}/_download/{export_id}?signature=fake-signature"
        return 200, {}, {"id": export_id, "status": "complete", "href": href, "downloadLink": link}

    def _download(self, export_id: str, headers: Message) -> Reply:
        with self.lock:
            auth = headers.get("Authorization")
            self.download_authorization.append(auth)
            export = self.exports.get(export_id)
        if auth is not None:
            return 400, {"Content-Type": "text/plain"}, b"bearer tokens are not accepted here"
        if export is None:
            return 404, {"Content-Type": "text/plain"}, b"no such file"
        if export["format"] == "html":
            data = f"<html><body><pre>{html.escape(export['content'])}</pre></body></html>".encode()
            return 200, {"Content-Type": "text/html"}, data
        return 200, {"Content-Type": "text/markdown"}, export["content"].encode()

    def list_tables(self, doc_id: str, *, query: dict[str, str], **_: Any) -> Reply:
        doc = self._doc(doc_id)
        tables = [self._table_json(doc, t) for t in doc.tables.values()]
        return 200, {}, self._page_of(tables, query, 25, f"/docs/{doc_id}/tables")

    def _table(self, doc_id: str, table_key: str) -> tuple[_Doc, _Table]:
        doc = self._doc(doc_id)
        table: _Table = self._by_id_or_name(doc.tables, table_key, "table")  # type: ignore[arg-type]
        return doc, table

    def get_table(self, doc_id: str, table_key: str, **_: Any) -> Reply:
        doc, table = self._table(doc_id, table_key)
        return 200, {}, self._table_json(doc, table)

    def list_columns(self, doc_id: str, table_key: str, *, query: dict[str, str], **_: Any) -> Reply:
        doc, table = self._table(doc_id, table_key)
        columns = [self._column_json(doc, table, c) for c in table.columns]
        return 200, {}, self._page_of(columns, query, 25, f"/docs/{doc_id}/tables/{table.id}/columns")

    def get_column(self, doc_id: str, table_key: str, column_key: str, **_: Any) -> Reply:
        doc, table = self._table(doc_id, table_key)
        for column in table.columns:
            if column_key in (column["id"], column["name"]):
                return 200, {}, self._column_json(doc, table, column)
        raise _HTTPError(404, f"column {column_key} does not exist")

    def list_rows(self, doc_id: str, table_key: str, *, query: dict[str, str], **_: Any) -> Reply:
        doc, table = self._table(doc_id, table_key)
        rows = list(table.rows.values())
        if query.get("query"):
            column, wanted = self._row_filter(table, query["query"])
            rows = [r for r in rows if r["values"].get(column["id"]) == wanted]
        items = [self._row_json(doc, table, r, query) for r in rows]
        return 200, {}, self._page_of(items, query, 25, f"/docs/{doc_id}/tables/{table.id}/rows")

    def _row_filter(self, table: _Table, text: str) -> tuple[dict[str, Any], Any]:
        """Coda's ``<column id or name>:<JSON value>``; a name in double quotes (a JSON string)
        matches names only, a bare key an id (or, leniently, a name)."""
        if text.startswith('"'):
            try:
                name, end = json.JSONDecoder().raw_decode(text)
            except ValueError:
                raise _HTTPError(400, "malformed query") from None
            if text[end : end + 1] != ":":
                raise _HTTPError(400, "malformed query")
            matches = [c for c in table.columns if c["name"] == name]
            if len(matches) != 1:
                raise _HTTPError(400, f"no single column named {name}")
            column, raw = matches[0], text[end + 1 :]
        else:
            key, _, raw = text.partition(":")
            column = self._column(table, key)
        try:
            wanted = json.loads(raw)
        except ValueError:
            wanted = raw
        return column, wanted

    def _cells(self, table: _Table, row: Any) -> dict[str, Any]:
        if not isinstance(row, dict) or not isinstance(row.get("cells"), list):
            raise _HTTPError(400, "each row needs a list of cells")
        values: dict[str, Any] = {}
        for cell in row["cells"]:
            column = self._column(table, str(cell.get("column")))
            values[column["id"]] = cell.get("value")
        return values

    def upsert_rows(self, doc_id: str, table_key: str, *, payload: Any, now: float, **_: Any) -> Reply:
        _, table = self._table(doc_id, table_key)
        if not isinstance(payload, dict) or not isinstance(payload.get("rows"), list):
            raise _HTTPError(400, "rows is required")
        keys = [self._column(table, str(k))["id"] for k in payload.get("keyColumns") or []]
        edits = [self._cells(table, row) for row in payload["rows"]]
        added: list[str] = []
        planned: list[tuple[str | None, dict[str, Any]]] = []
        for values in edits:
            if keys:
                planned.append((None, values))
            else:
                row_id = self._new_id("i")
                added.append(row_id)
                planned.append((row_id, values))

        def apply() -> None:
            stamp = _now_iso()
            for row_id, values in planned:
                target = None
                if row_id is None:
                    for row in table.rows.values():
                        if all(row["values"].get(k) == values.get(k) for k in keys):
                            target = row
                            break
                if target is not None:
                    target["values"].update(values)
                    target["updatedAt"] = stamp
                    continue
                new_id = row_id or self._new_id("i")
                table.rows[new_id] = {
                    "id": new_id,
                    "index": len(table.rows) + 1,
                    "values": dict(values),
                    "createdAt": stamp,
                    "updatedAt": stamp,
                }

        return 202, {}, {"requestId": self._mutation(apply, now), "addedRowIds": added}

    def delete_rows(self, doc_id: str, table_key: str, *, payload: Any, now: float, **_: Any) -> Reply:
        _, table = self._table(doc_id, table_key)
        row_ids = list((payload or {}).get("rowIds") or [])

        def apply() -> None:
            for row_id in row_ids:
                table.rows.pop(row_id, None)

        return 202, {}, {"requestId": self._mutation(apply, now), "rowIds": row_ids}

    def _row(self, table: _Table, row_key: str) -> dict[str, Any]:
        if row_key in table.rows:
            return table.rows[row_key]
        display = table.columns[0]["id"]
        for row in table.rows.values():
            if str(row["values"].get(display)) == row_key:
                return row
        raise _HTTPError(404, f"row {row_key} does not exist")

    def get_row(self, doc_id: str, table_key: str, row_key: str, *, query: dict[str, str], **_: Any) -> Reply:
        doc, table = self._table(doc_id, table_key)
        return (
            200,
            {},
            {
                **self._row_json(doc, table, self._row(table, row_key), query),
                "parent": {"id": table.id, "type": "table"},
            },
        )

    def update_row(self, doc_id: str, table_key: str, row_key: str, *, payload: Any, now: float, **_: Any) -> Reply:
        _, table = self._table(doc_id, table_key)
        row = self._row(table, row_key)
        values = self._cells(table, (payload or {}).get("row"))

        def apply() -> None:
            row["values"].update(values)
            row["updatedAt"] = _now_iso()

        return 202, {}, {"requestId": self._mutation(apply, now), "id": row["id"]}

    def delete_row(self, doc_id: str, table_key: str, row_key: str, *, now: float, **_: Any) -> Reply:
        _, table = self._table(doc_id, table_key)
        row = self._row(table, row_key)

        def apply() -> None:
            table.rows.pop(row["id"], None)

        return 202, {}, {"requestId": self._mutation(apply, now), "id": row["id"]}

    def mutation_status(self, request_id: str, **_: Any) -> Reply:
        mutation = self.mutations.get(request_id)
        if mutation is None:
            raise _HTTPError(404, f"no mutation {request_id}")
        return 200, {}, {"completed": bool(mutation["done"])}

    # -- inspection for tests ----------------------------------------------------------------

    def table_values(self, doc_id: str, table_key: str) -> list[dict[str, Any]]:
        """The rows of a table, values keyed by column name (after applying due mutations)."""
        with self.lock:
            self._apply_due(time.monotonic())
            _, table = self._table(doc_id, table_key)
            names = {c["id"]: c["name"] for c in table.columns}
            return [{names[k]: v for k, v in row["values"].items()} for row in table.rows.values()]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, payload = self.server.fake.handle(self.command, self.path, self.headers, body)
        if isinstance(payload, bytes):
            data = payload
        else:
            data = json.dumps(payload).encode()
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, fake: FakeCoda) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)


class ServedFake:
    """A :class:`FakeCoda` listening on 127.0.0.1 in a background thread."""

    def __init__(self, fake: FakeCoda) -> None:
        self.fake = fake
        self._server = _Server(fake)
        host, port = self._server.server_address[:2]
        fake.origin = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-coda", daemon=True
        )

    @property
    def base_url(self) -> str:
        return self.fake.base_url

    def start(self) -> ServedFake:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
