"""The review page's HTTP server: Python's ThreadingHTTPServer, bound to 127.0.0.1 only.

Security, because the page writes to the warehouse and shows untrusted document text:
- listens on 127.0.0.1, never on another interface, and answers only requests whose Host
  header names it (127.0.0.1:PORT or localhost:PORT): a web page elsewhere cannot reach it
  through DNS rebinding;
- every write (POST) needs the per-run CSRF token (header X-CSRF-Token, compared in constant
  time), a JSON body and, when the browser sends one, an Origin of this server;
- Content-Security-Policy allows only this server's own script, style and images (no inline
  script, nothing remote); every document string is escaped in pages.py.
Each request reads its own connection to the analysts' snapshot; writes go through
review/actions.py (the writer lock).
"""

from __future__ import annotations

import hmac
import json
import mimetypes
import re
import secrets
import threading
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from commune_metrics.core.config import DATA_DIR
from commune_metrics.review import actions, data, pages
from commune_metrics.review.page_image import PageImageError, locate, render_page
from commune_metrics.warehouse import WarehouseError, connect_readonly

STATIC_DIR = Path(__file__).resolve().parent / "static"
HOST = "127.0.0.1"
MAX_BODY = 64 * 1024
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
_SHA = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class ReviewApp:
    warehouse: Path
    who: str
    port: int = 0
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    file_roots: list[Path] = field(default_factory=lambda: [DATA_DIR / "raw"])

    def allowed_hosts(self) -> set[str]:
        return {f"{HOST}:{self.port}", f"localhost:{self.port}"}


class Handler(BaseHTTPRequestHandler):
    server_version = "commune-metrics-review"
    app: ReviewApp  # set on the subclass made by make_server

    # -- plumbing ----------------------------------------------------------------------------
    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per request would drown the URL the analyst needs to see

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser left the page before the answer came (a click on a link mid-save)

    def _html(self, title: str, body: str, status: int = 200, page_class: str = "") -> None:
        with closing(connect_readonly(self.app.warehouse)) as con:
            counts = data.counts(con)
        html = pages.layout(title, body, csrf=self.app.csrf, who=self.app.who, counts=counts,
                            page_class=page_class)
        self._send(status, html.encode("utf-8"), "text/html; charset=utf-8")

    def _json(self, status: int, payload: dict) -> None:
        self._send(status, pages.json_body(payload), "application/json; charset=utf-8")

    def _host_ok(self) -> bool:
        return self.headers.get("Host", "") in self.app.allowed_hosts()

    # -- GET -----------------------------------------------------------------------------------
    def do_GET(self) -> None:
        if not self._host_ok():
            self._send(HTTPStatus.MISDIRECTED_REQUEST, b"wrong host", "text/plain")
            return
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        try:
            if url.path == "/":
                self._index()
            elif url.path == "/commune":
                self._commune(query.get("key", [""])[0])
            elif url.path.startswith("/doc/"):
                self._document(unquote(url.path[len("/doc/"):]))
            elif url.path == "/queue":
                self._queue()
            elif url.path == "/flags":
                self._flags()
            elif url.path == "/page.png":
                self._page_image(query)
            elif url.path.startswith("/static/"):
                self._static(url.path[len("/static/"):])
            elif url.path == "/favicon.ico":
                self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
            else:
                self._html("Không tìm thấy", pages.not_found(url.path), HTTPStatus.NOT_FOUND)
        except WarehouseError as exc:
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, str(exc).encode("utf-8"), "text/plain; charset=utf-8")

    def _index(self) -> None:
        with closing(connect_readonly(self.app.warehouse)) as con:
            body = pages.index_page(data.communes(con), data.documents(con))
        self._html("Rà soát số liệu", body, page_class="index")

    def _commune(self, key: str) -> None:
        with closing(connect_readonly(self.app.warehouse)) as con:
            commune = data.commune(con, key)
            if commune is None:
                self._html("Không tìm thấy", pages.not_found("xã/phường này"), HTTPStatus.NOT_FOUND)
                return
            body = pages.commune_page(commune, data.documents(con, key), data.facts(con, commune_key=key),
                                      data.metric_catalog(con))
        self._html(f"{commune['commune']} ({commune['province']})", body, page_class="commune")

    def _document(self, sha: str) -> None:
        if not _SHA.match(sha):
            self._html("Không tìm thấy", pages.not_found("văn bản này"), HTTPStatus.NOT_FOUND)
            return
        with closing(connect_readonly(self.app.warehouse)) as con:
            doc = data.document(con, sha)
            if doc is None:
                self._html("Không tìm thấy", pages.not_found("văn bản này"), HTTPStatus.NOT_FOUND)
                return
            facts = data.facts(con, doc_sha256=sha)
            flags = data.flags(con, sha)
            metrics = data.metric_catalog(con)
        text, starts = doc["text"], _page_starts(doc["page_starts"])
        if text is None:
            text, starts = self._text_from_file(doc)
        body = pages.document_page(doc, text, facts, flags, metrics, starts,
                                   has_image=(doc["file_type"] == "pdf"))
        self._html(doc["source_file"], body, page_class="document")

    def _text_from_file(self, doc: dict) -> tuple[str | None, list[int] | None]:
        """A document loaded before texts were stored: read its file again (same normalization,
        so the spans still match), if it can still be found."""
        from commune_metrics.core.errors import ReaderError
        from commune_metrics.readers import load_document

        with closing(connect_readonly(self.app.warehouse)) as con:
            recorded = data.file_locations(con, doc["doc_sha256"])
        path = locate(doc["doc_sha256"], doc["source_file"], recorded, self.app.file_roots)
        if path is None:
            return None, None
        try:
            loaded = load_document(path)
        except ReaderError:
            return None, None
        return loaded.text, ([p.start for p in loaded.pages] if loaded.paginated else None)

    def _queue(self) -> None:
        with closing(connect_readonly(self.app.warehouse)) as con:
            body = pages.queue_page(data.queue(con), data.metric_catalog(con))
        self._html("Hàng đợi rà soát", body, page_class="queue")

    def _flags(self) -> None:
        with closing(connect_readonly(self.app.warehouse)) as con:
            body = pages.flags_list(data.flags(con))
        self._html("Cảnh báo kiểm tra số liệu", body, page_class="flags")

    def _page_image(self, query: dict[str, list[str]]) -> None:
        sha = query.get("doc", [""])[0]
        fact_id = query.get("fact", [""])[0]
        try:
            number = int(query.get("page", ["1"])[0])
        except ValueError:
            number = 0
        if not _SHA.match(sha) or number < 1:
            self._send(HTTPStatus.BAD_REQUEST, b"bad page request", "text/plain")
            return
        with closing(connect_readonly(self.app.warehouse)) as con:
            doc = data.document(con, sha)
            facts = data.facts(con, doc_sha256=sha) if doc else []
            recorded = data.file_locations(con, sha)
        if doc is None or doc["file_type"] != "pdf":
            self._send(HTTPStatus.NOT_FOUND, b"no such PDF", "text/plain")
            return
        path = locate(sha, doc["source_file"], recorded, self.app.file_roots)
        if path is None:
            self._send(HTTPStatus.NOT_FOUND, "tệp gốc không còn ở nơi lưu trữ".encode(),
                       "text/plain; charset=utf-8")
            return
        scanned = str(number) in (doc["ocr_pages"] or "").split(",")
        marks = [(f["evidence"] or "", f["fact_id"] == fact_id) for f in facts if f.get("page") == number]
        try:
            png = render_page(path, number, marks, scanned)
        except PageImageError as exc:
            self._send(HTTPStatus.NOT_FOUND, str(exc).encode("utf-8"), "text/plain; charset=utf-8")
            return
        self._send(HTTPStatus.OK, png, "image/png")

    def _static(self, name: str) -> None:
        path = (STATIC_DIR / name).resolve()
        if path.parent != STATIC_DIR or not path.is_file():
            self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
            return
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self._send(HTTPStatus.OK, path.read_bytes(), f"{kind}; charset=utf-8")

    # -- POST ----------------------------------------------------------------------------------
    def do_POST(self) -> None:
        problem = self._refuse_write()
        if problem:
            self._json(HTTPStatus.FORBIDDEN, {"status": "refused", "message": problem})
            return
        if urlsplit(self.path).path != "/api/action":
            self._json(HTTPStatus.NOT_FOUND, {"status": "refused", "message": "no such endpoint"})
            return
        try:
            payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            if not isinstance(payload, dict):
                raise ValueError("a JSON object is expected")
        except (ValueError, UnicodeDecodeError) as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"status": "error", "message": f"bad JSON: {exc}"})
            return
        try:
            with closing(connect_readonly(self.app.warehouse)) as con:
                codes = {m.code for m in data.metric_catalog(con)}
            action = actions.parse_action(payload, self.app.who, codes)
            outcome = actions.submit(self.app.warehouse, action)
        except actions.ActionError as exc:
            self._json(HTTPStatus.UNPROCESSABLE_ENTITY, {"status": "error", "message": str(exc)})
            return
        except WarehouseError as exc:
            self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"status": "error", "message": str(exc)})
            return
        self._json(HTTPStatus.OK, {"status": outcome.status, "message": outcome.message,
                                   "row": self._row_html(action.fact_id, payload.get("show_doc") is True)})

    def _refuse_write(self) -> str | None:
        if not self._host_ok():
            return "wrong host"
        origin = self.headers.get("Origin")
        if origin is not None and origin not in {f"http://{h}" for h in self.app.allowed_hosts()}:
            return "cross-origin request"
        token = self.headers.get("X-CSRF-Token", "")
        if not hmac.compare_digest(token.encode(), self.app.csrf.encode()):
            return "missing or wrong CSRF token"
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            return "JSON expected"
        length = int(self.headers.get("Content-Length", "0") or 0)
        if length > MAX_BODY:
            return "request too large"
        return None

    def _row_html(self, fact_id: str, show_doc: bool) -> str:
        with closing(connect_readonly(self.app.warehouse)) as con:
            found = data.facts(con, fact_id=fact_id)
        return "".join(pages.fact_rows(found, show_doc=show_doc))


def _page_starts(raw: str | None) -> list[int] | None:
    if not raw:
        return None
    return [int(x) for x in raw.split(",") if x.strip().isdigit()]


def make_server(app: ReviewApp) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"app": app})
    server = ThreadingHTTPServer((HOST, app.port), handler)
    server.daemon_threads = True  # a browser's kept-alive connection must not hold up Ctrl-C
    app.port = server.server_address[1]
    return server


def serve(app: ReviewApp, on_ready: Callable[[str], None] | None = None,
          stop: threading.Event | None = None) -> None:
    """Serve until Ctrl-C (or `stop` is set, for tests in-process)."""
    connect_readonly(app.warehouse).close()  # no warehouse: one clear error before listening
    server = make_server(app)
    url = f"http://{HOST}:{app.port}/"
    if on_ready:
        on_ready(url)
    if stop is not None:
        threading.Thread(target=lambda: (stop.wait(), server.shutdown()), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
