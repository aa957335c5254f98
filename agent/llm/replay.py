"""A local OpenAI-compatible server that replays scripted replies.

No hosted model is reachable from where ouro is tested, so every test of the language-model
path drives the real thing (litellm -> HTTP -> this server) against replies written in a
script. The server answers `POST /v1/chat/completions` and `GET /v1/models`, and records each
request it gets (`GET /v1/_requests` returns them) so tests can check what the client sent.

A script is a JSON (or YAML, when PyYAML is installed) document:

    [reply, reply, ...]                      served in order, whoever asks
    {"roles": {"agent": [...], "value": [...]}, "default": [...]}

With "roles", the request's `X-Ouro-Role` header (set by `LLMClient.chat(role=...)`) picks
the queue; a role without a queue of its own is served from "default". A reply is a dict:

    content:    the assistant's text
    tool_calls: [{"name": "view_file", "arguments": {...} or "raw string", "id": "..."}]
                (a raw string that is not JSON is how a malformed tool call is scripted)
    usage:      {"prompt_tokens": N, "completion_tokens": M} (default: estimated, 4 chars/token)
    sleep:      seconds to wait before answering (a client with a shorter timeout times out)
    error:      429 | 500 | 503 | "rate_limit" | "server_error" | "context_overflow"
    message:    the error's message (optional)
    when:       a regular expression; the reply is served only to a request whose message
                texts match it (so a script does not depend on the order a search explores)

A request gets the first reply of its queue that is not yet used and whose `when` (if any)
matches. Every request consumes one reply, including failed ones, so a retried request gets the next.
A request past the end of its queue gets HTTP 400 "replay script exhausted" (not retried).
"""
from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROLE_HEADER = "X-Ouro-Role"

_ERRORS = {
    # name: (HTTP status, OpenAI error type, code, default message)
    "rate_limit": (429, "rate_limit_error", "rate_limit_exceeded", "Rate limit reached (replayed)."),
    "server_error": (500, "server_error", None, "The server had an error (replayed)."),
    "unavailable": (503, "server_error", None, "The engine is overloaded (replayed)."),
    "context_overflow": (400, "invalid_request_error", "context_length_exceeded",
                         "This model's maximum context length is 8192 tokens. However, your "
                         "messages resulted in 9001 tokens. Please reduce the length of the messages."),
}
_ERROR_ALIASES = {429: "rate_limit", 500: "server_error", 503: "unavailable",
                  "429": "rate_limit", "500": "server_error", "503": "unavailable"}


class ScriptError(ValueError):
    """The script file is missing or not a valid replay script."""


@dataclass
class ReplayScript:
    queues: dict[str, list[dict]]  # role -> replies; "default" serves roles without a queue

    @classmethod
    def load(cls, source: "str | os.PathLike | list | dict | ReplayScript") -> "ReplayScript":
        if isinstance(source, ReplayScript):
            return source
        if isinstance(source, (str, os.PathLike)):
            data = _read_script_file(Path(source))
        else:
            data = source
        if isinstance(data, list):
            queues = {"default": list(data)}
        elif isinstance(data, dict) and ("roles" in data or "default" in data):
            queues = {str(k): list(v) for k, v in (data.get("roles") or {}).items()}
            queues["default"] = list(data.get("default") or [])
        else:
            raise ScriptError("a replay script is a list of replies or {\"roles\": {...}, \"default\": [...]}")
        for role, replies in queues.items():
            for i, reply in enumerate(replies):
                _validate_reply(reply, f"{role}[{i}]")
        return cls(queues)


def _read_script_file(path: Path):
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ScriptError(f"cannot read replay script {path}: {e.strerror}") from None
    if path.suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ScriptError("YAML scripts need PyYAML (pip install pyyaml); or write the script as JSON") from None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ScriptError(f"replay script {path} is not valid YAML: {e}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ScriptError(f"replay script {path} is not valid JSON: {e.msg} at line {e.lineno}") from None


def _validate_reply(reply, where: str) -> None:
    if not isinstance(reply, dict):
        raise ScriptError(f"reply {where} must be an object, got {type(reply).__name__}")
    unknown = set(reply) - {"content", "tool_calls", "usage", "sleep", "error", "message", "note", "when"}
    if unknown:
        raise ScriptError(f"reply {where} has unknown keys: {', '.join(sorted(unknown))}")
    err = reply.get("error")
    if err is not None and _ERROR_ALIASES.get(err, err) not in _ERRORS:
        raise ScriptError(f"reply {where}: unknown error {err!r} (use 429, 500, 503, rate_limit, "
                          "server_error, context_overflow)")
    if reply.get("when") is not None:
        try:
            re.compile(reply["when"])
        except (re.error, TypeError) as e:
            raise ScriptError(f"reply {where}: `when` is not a regular expression: {e}") from None
    for call in reply.get("tool_calls") or []:
        if not isinstance(call, dict) or "name" not in call:
            raise ScriptError(f"reply {where}: each tool call needs a name")


@dataclass
class RecordedRequest:
    n: int
    role: str
    model: str
    messages: list
    tools: list | None
    served: str  # "reply", "error:<kind>", "exhausted"
    reply_index: int | None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class ReplayServer:
    """`ReplayServer(script).start()` returns the base URL (`http://127.0.0.1:PORT/v1`)."""

    def __init__(self, script, port: int = 0, host: str = "127.0.0.1", record_path: str | os.PathLike | None = None):
        self.script = ReplayScript.load(script)
        self._used: dict[str, set[int]] = {role: set() for role in self.script.queues}
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self.record_path = Path(record_path) if record_path else None
        self._host, self._port = host, port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> str:
        handler = _make_handler(self)
        self._httpd = ThreadingHTTPServer((self._host, self._port), handler)
        self._httpd.daemon_threads = True  # a sleeping reply must not keep the process alive
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="ouro-replay", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "ReplayServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd, "server not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}/v1"

    def remaining(self) -> dict[str, int]:
        with self._lock:
            return {r: len(q) - len(self._used[r]) for r, q in self.script.queues.items()}

    # --- serving ---------------------------------------------------------------------
    def _next_reply(self, role: str, text: str) -> tuple[str, int | None, dict | None]:
        with self._lock:
            queue_name = role if role in self.script.queues else "default"
            used = self._used[queue_name]
            for i, reply in enumerate(self.script.queues[queue_name]):
                if i in used:
                    continue
                when = reply.get("when")
                if when is None or re.search(when, text, re.DOTALL):
                    used.add(i)
                    return queue_name, i, reply
            return queue_name, None, None

    def _record(self, rec: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(rec)
        if self.record_path:
            from ouro.sandbox.core.files import append_jsonl

            append_jsonl(self.record_path, rec.to_dict())

    def handle_chat(self, body: dict, role: str) -> tuple[int, dict, float]:
        """Returns (HTTP status, JSON body, seconds to sleep first)."""
        text = "\n".join(_message_text(m) for m in body.get("messages") or [] if isinstance(m, dict))
        queue_name, index, reply = self._next_reply(role, text)
        rec = RecordedRequest(n=len(self.requests), role=role, model=str(body.get("model", "")),
                              messages=body.get("messages") or [], tools=body.get("tools"),
                              served="reply", reply_index=index)
        if reply is None:
            rec.served = "exhausted"
            self._record(rec)
            return 400, _error_body("invalid_request_error", None,
                                    f"replay script exhausted for role {queue_name!r}: none of its "
                                    f"{len(self.script.queues[queue_name])} replies is left for this request"), 0.0
        sleep = float(reply.get("sleep") or 0)
        if reply.get("error") is not None:
            kind = _ERROR_ALIASES.get(reply["error"], reply["error"])
            status, etype, code, message = _ERRORS[kind]
            rec.served = f"error:{kind}"
            self._record(rec)
            return status, _error_body(etype, code, reply.get("message") or message), sleep
        self._record(rec)
        return 200, _completion(body, reply), sleep


def _message_text(m: dict) -> str:
    content = m.get("content")
    if isinstance(content, list):  # content parts
        content = "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


def _error_body(etype: str, code: str | None, message: str) -> dict:
    return {"error": {"message": message, "type": etype, "param": None, "code": code}}


def _estimate_tokens(obj) -> int:
    text = obj if isinstance(obj, str) else json.dumps(obj)
    return max(1, len(text) // 4)


def _completion(body: dict, reply: dict) -> dict:
    message: dict = {"role": "assistant", "content": reply.get("content")}
    calls = []
    for i, call in enumerate(reply.get("tool_calls") or []):
        args = call.get("arguments", {})
        calls.append({
            "id": call.get("id") or f"call_{uuid.uuid4().hex[:12]}",
            "type": "function",
            "function": {"name": call["name"], "arguments": args if isinstance(args, str) else json.dumps(args)},
        })
    if calls:
        message["tool_calls"] = calls
    usage = dict(reply.get("usage") or {})
    usage.setdefault("prompt_tokens", _estimate_tokens(body.get("messages") or []))
    usage.setdefault("completion_tokens", _estimate_tokens(message))
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return {
        "id": f"chatcmpl-replay-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "replay"),
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": usage,
    }


def _make_handler(server: ReplayServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # tests and demos stay quiet
            pass

        def _send(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout); nothing to answer

        def do_GET(self):
            path = self.path.rstrip("/")
            if path.endswith("/models"):
                self._send(200, {"object": "list", "data": [{"id": "replay", "object": "model", "owned_by": "ouro"}]})
            elif path.endswith("/_requests"):
                self._send(200, {"requests": [r.to_dict() for r in server.requests]})
            else:
                self._send(404, _error_body("not_found", None, f"no route {self.path}"))

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, _error_body("not_found", None, f"no route {self.path}"))
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._send(400, _error_body("invalid_request_error", None, "request body is not JSON"))
                return
            if body.get("stream"):
                self._send(400, _error_body("invalid_request_error", None, "the replay server does not stream"))
                return
            role = self.headers.get(ROLE_HEADER) or "default"
            status, payload, sleep = server.handle_chat(body, role)
            if sleep:
                time.sleep(sleep)
            self._send(status, payload)

    return Handler
