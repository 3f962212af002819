"""A real HTTP server speaking the subset of the OpenAI API the app uses, for tests.

The stub runs in a background thread on 127.0.0.1 (a free port) and answers

* ``GET  /v1/models``
* ``POST /v1/chat/completions`` — plain JSON, or Server-Sent Events when
  ``"stream": true`` (``chat.completion.chunk`` objects, a final usage chunk
  when ``stream_options.include_usage`` is set, then ``data: [DONE]``);
* ``POST /v1/embeddings`` — deterministic vectors (hashed character bigrams,
  ``embedding_dim`` dimensions, L2-normalised), as floats or base64 as asked.

so the real ``openai`` client (and langchain-openai on top of it) is exercised
end to end: HTTP, SSE parsing, retries, time-outs and error mapping.

What it says is set per test through :attr:`OpenAIStub.reply`: a string, a
list of strings used in turn (the last one repeats), or a callable that gets
the request JSON and returns the string.  Every request is recorded in
:attr:`OpenAIStub.requests` (method, path, headers, JSON body).

Fault knobs, read at the time each request arrives, so they can be changed on
a running stub:

``status``            answer every request with this HTTP error (OpenAI error JSON);
``fail_times``        only the first N requests fail (with ``status``, default 500), then normal answers;
``retry_after``       seconds sent as ``Retry-After`` with an error answer (429 sends "1" by default);
``delay_first_token`` seconds between the response headers and the first content chunk
                      (for a non-streaming request: before the answer);
``per_token_delay``   seconds between content chunks;
``cut_stream_after``  send N ``data:`` chunks, then stop without ``[DONE]``; ``cut_mode``
                      ``"abort"`` (default) closes the socket in the middle of the chunked body,
                      ``"eof"`` ends the body cleanly but early (no finish_reason, no [DONE]);
``hang``              read the request and never answer (the client times out).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Literal

Reply = str | list[str] | Callable[[dict], str]


def unused_port() -> int:
    """A port nothing listens on (bound once, then released): a 'service is down' endpoint."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bigram_vector(text: str, dim: int = 64) -> list[float]:
    """Hashed character bigrams (unigrams for one-character text), L2-normalised; deterministic."""
    grams = [text[i : i + 2] for i in range(len(text) - 1)] or [text]
    vec = [0.0] * dim
    for g in grams:
        h = hashlib.blake2b(g.encode("utf-8"), digest_size=8).digest()
        idx = int.from_bytes(h[:4], "little") % dim
        vec[idx] += 1.0 if h[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec))
    if norm == 0:
        vec[0], norm = 1.0, 1.0
    return [v / norm for v in vec]


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    json: Any
    at: float = field(default_factory=time.monotonic)
    done: float | None = None  # when its response was written to the end (None: still running, or cut)

    @property
    def prompt_text(self) -> str:
        """All message contents of a chat request, joined by newlines."""
        msgs = (self.json or {}).get("messages") or []
        parts = []
        for m in msgs:
            c = m.get("content")
            if isinstance(c, list):  # content parts
                c = "".join(p.get("text", "") for p in c if isinstance(p, dict))
            parts.append(c or "")
        return "\n".join(parts)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format, *args):  # keep pytest output clean
        pass

    # --- plumbing --------------------------------------------------------------
    def _read_json(self) -> Any:
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return {"_raw": raw.decode("utf-8", "replace")}

    def _send_json(self, code: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-request-id", "req_" + uuid.uuid4().hex[:16])
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _send_error(self, code: int, message: str, etype: str, ecode: str | None,
                    headers: dict[str, str] | None = None) -> None:
        self._send_json(code, {"error": {"message": message, "type": etype, "param": None, "code": ecode}}, headers)

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    # --- entry points ------------------------------------------------------------
    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def _handle(self, method: str) -> None:
        stub = self.server.stub
        body = self._read_json() if method == "POST" else None
        path = self.path.split("?", 1)[0]
        req = RecordedRequest(method, path, {k.lower(): v for k, v in self.headers.items()}, body)
        n = stub._record(req)

        if stub.hang:
            while stub.hang and not stub._stopping.is_set():
                stub._stopping.wait(0.05)
            if stub._stopping.is_set():
                self.close_connection = True
                return
        if self._maybe_fail(stub, n, req):
            return
        try:
            if method == "GET" and path == "/v1/models":
                self._send_json(200, {"object": "list", "data": [
                    {"id": m, "object": "model", "created": stub.created, "owned_by": "stub"} for m in stub.models
                ]})
            elif method == "POST" and path == "/v1/chat/completions":
                self._chat(stub, body or {})
            elif method == "POST" and path == "/v1/embeddings":
                self._embeddings(stub, body or {})
            else:
                self._send_error(404, f"Unknown request URL: {method} {path}", "invalid_request_error", "unknown_url")
        except (BrokenPipeError, ConnectionResetError):  # the client went away (time-out, cancel)
            self.close_connection = True
        finally:
            req.done = time.monotonic()

    def _maybe_fail(self, stub: "OpenAIStub", n: int, req: RecordedRequest) -> bool:
        status = stub.status
        if stub.fail_times is not None:
            if n > stub.fail_times:
                return False
            status = status or 500
        if not status:
            return False
        headers = {}
        retry_after = stub.retry_after if stub.retry_after is not None else (1 if status == 429 else None)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        if status == 401:
            key = req.headers.get("authorization", "").removeprefix("Bearer ")
            # echoes the key like a careless server would, so tests can check it never reaches the user
            self._send_error(401, f"Incorrect API key provided: {key}.", "invalid_request_error", "invalid_api_key", headers)
        elif status == 429:
            self._send_error(429, "Rate limit reached for requests.", "requests", "rate_limit_exceeded", headers)
        elif status >= 500:
            self._send_error(status, "The server had an error while processing your request.", "server_error", None, headers)
        else:
            self._send_error(status, f"Stub error {status}.", "invalid_request_error", None, headers)
        return True

    # --- chat ----------------------------------------------------------------------
    def _chat(self, stub: "OpenAIStub", body: dict) -> None:
        text = stub._next_reply(body)
        model = body.get("model") or stub.models[0]
        cid = "chatcmpl-" + uuid.uuid4().hex[:24]
        prompt_tokens = sum(len(str(m.get("content") or "")) for m in body.get("messages") or [])
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(text),
                 "total_tokens": prompt_tokens + len(text)}
        if not body.get("stream"):
            if stub.delay_first_token:
                stub._stopping.wait(stub.delay_first_token)
            self._send_json(200, {
                "id": cid, "object": "chat.completion", "created": stub.created, "model": model,
                "system_fingerprint": "fp_stub",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": None},
                             "logprobs": None, "finish_reason": "stop"}],
                "usage": usage,
            })
            return

        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        def chunk(delta: dict, finish: str | None = None, choices: bool = True, usage_obj=None) -> dict:
            obj = {"id": cid, "object": "chat.completion.chunk", "created": stub.created, "model": model,
                   "system_fingerprint": "fp_stub",
                   "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}] if choices else []}
            if include_usage:
                obj["usage"] = usage_obj
            return obj

        pieces = [text[i : i + stub.chunk_chars] for i in range(0, len(text), stub.chunk_chars)]
        events = [chunk({"role": "assistant", "content": "", "refusal": None})]
        events += [chunk({"content": p}) for p in pieces]
        events.append(chunk({}, "stop"))
        if include_usage:
            events.append(chunk({}, choices=False, usage_obj=usage))

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-request-id", "req_" + uuid.uuid4().hex[:16])
        self.end_headers()
        self.wfile.flush()
        if stub.delay_first_token:
            stub._stopping.wait(stub.delay_first_token)
        cut = stub.cut_stream_after
        for i, ev in enumerate(events):
            if cut is not None and i >= cut:
                self._cut(stub.cut_mode)
                return
            if 1 < i <= len(pieces) and stub.per_token_delay:  # between content chunks
                stub._stopping.wait(stub.per_token_delay)
            self._write_chunk(b"data: " + json.dumps(ev, ensure_ascii=False).encode("utf-8") + b"\n\n")
        if cut is not None and len(events) >= cut:  # cut exactly where [DONE] would be
            self._cut(stub.cut_mode)
            return
        self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _cut(self, mode: str) -> None:
        self.close_connection = True
        if mode == "eof":  # a well-formed but early end of the body
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            return
        self.wfile.flush()  # "abort": the connection drops in the middle of the chunked body
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # --- embeddings --------------------------------------------------------------------
    def _embeddings(self, stub: "OpenAIStub", body: dict) -> None:
        inp = body.get("input")
        if isinstance(inp, str) or (isinstance(inp, list) and inp and isinstance(inp[0], int)):
            inp = [inp]
        inp = inp or []
        b64 = body.get("encoding_format") == "base64"
        data = []
        for i, item in enumerate(inp):
            vec = bigram_vector(item if isinstance(item, str) else json.dumps(item), stub.embedding_dim)
            emb: Any = base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode() if b64 else vec
            data.append({"object": "embedding", "index": i, "embedding": emb})
        tokens = sum(len(x) if isinstance(x, (str, list)) else 1 for x in inp)
        self._send_json(200, {"object": "list", "data": data, "model": body.get("model") or "stub-embedding",
                              "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    stub: "OpenAIStub"

    def handle_error(self, request, client_address):
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # a client that timed out or dropped the connection is part of the tests
        super().handle_error(request, client_address)


class OpenAIStub:
    """``with OpenAIStub("你好") as stub: ... stub.base_url ...`` — see the module docstring."""

    def __init__(self, reply: Reply = "各位代表：大家好！今天我们召开大会。", *, models: list[str] | None = None,
                 chunk_chars: int = 2, embedding_dim: int = 64):
        self.reply: Reply = reply
        self.models = models or ["stub-model"]
        self.chunk_chars = chunk_chars
        self.embedding_dim = embedding_dim
        self.created = int(time.time())
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._replies_used = 0
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.reset_faults()

    # --- configuration --------------------------------------------------------------
    def reset_faults(self) -> None:
        self.status: int | None = None
        self.fail_times: int | None = None
        self.retry_after: float | int | None = None
        self.delay_first_token: float = 0.0
        self.per_token_delay: float = 0.0
        self.cut_stream_after: int | None = None
        self.cut_mode: Literal["abort", "eof"] = "abort"
        self.hang: bool = False

    def reset(self) -> None:
        """Forget recorded requests and faults (the reply stays)."""
        with self._lock:
            self.requests.clear()
            self._replies_used = 0
        self.reset_faults()

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> "OpenAIStub":
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.stub = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="openai-stub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hanging and sleeping handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "OpenAIStub":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "stub not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # --- recorded traffic ------------------------------------------------------------------
    def requests_to(self, path: str) -> list[RecordedRequest]:
        """Recorded requests whose path ends with ``path`` (e.g. ``"/chat/completions"``)."""
        with self._lock:
            return [r for r in self.requests if r.path.endswith(path)]

    @property
    def last(self) -> RecordedRequest:
        with self._lock:
            return self.requests[-1]

    # --- internals ---------------------------------------------------------------------------
    def _record(self, req: RecordedRequest) -> int:
        with self._lock:
            self.requests.append(req)
            return len(self.requests)

    def _next_reply(self, body: dict) -> str:
        r = self.reply
        if callable(r):
            return str(r(body))
        if isinstance(r, list):
            with self._lock:
                i = min(self._replies_used, len(r) - 1)
                self._replies_used += 1
            return r[i]
        return r
