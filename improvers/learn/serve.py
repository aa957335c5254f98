"""`ouro serve`: an OpenAI-compatible chat endpoint for a local checkpoint.

vLLM serves when it is installed and a GPU is present (its own OpenAI server, started as a
subprocess); otherwise a small stdlib HTTP server generates with transformers. Either way
`ouro repair --policy local:DIR` talks to it through litellm like any hosted provider.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class TransformersChat:
    """Greedy/sampled generation with a transformers checkpoint and its chat template."""

    def __init__(self, model_dir: str, device: str = "auto"):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        dtype = torch.bfloat16 if self.device == "cuda" else torch.float32
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype).to(self.device).eval()
        self.lock = threading.Lock()  # one generation at a time: the model is not re-entrant

    def chat(self, messages: list[dict], max_tokens: int = 256, temperature: float = 0.0) -> tuple[str, int, int]:
        torch = self.torch
        # tool results and other roles are folded into the template's known roles
        msgs = [{"role": m.get("role") if m.get("role") in ("system", "user", "assistant") else "user",
                 "content": m.get("content") if isinstance(m.get("content"), str) else json.dumps(m.get("content"))}
                for m in messages]
        ids = self.tokenizer.apply_chat_template(msgs, add_generation_prompt=True, return_tensors="pt",
                                                 return_dict=True)["input_ids"].to(self.device)
        with self.lock, torch.no_grad():
            out = self.model.generate(ids, max_new_tokens=max_tokens, do_sample=temperature > 0,
                                      temperature=temperature if temperature > 0 else None,
                                      pad_token_id=self.tokenizer.pad_token_id,
                                      eos_token_id=self.tokenizer.eos_token_id)
        new = out[0, ids.shape[1]:]
        return self.tokenizer.decode(new, skip_special_tokens=True), int(ids.shape[1]), int(new.shape[0])


def make_handler(engine: TransformersChat, model_name: str):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):  # quiet: the CLI prints its own lines
            pass

        def _send(self, code: int, obj: dict):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path.rstrip("/") in ("/v1/models", "/models"):
                self._send(200, {"object": "list", "data": [{"id": model_name, "object": "model", "owned_by": "ouro"}]})
            elif self.path.rstrip("/") in ("/health", "/v1/health"):
                self._send(200, {"status": "ok", "model": model_name})
            else:
                self._send(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self):
            if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                return self._send(404, {"error": {"message": f"no route {self.path}"}})
            try:
                req = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                messages = req["messages"]
            except (json.JSONDecodeError, KeyError, ValueError):
                return self._send(400, {"error": {"message": "body must be JSON with 'messages'", "type": "invalid_request_error"}})
            text, n_in, n_out = engine.chat(messages, max_tokens=int(req.get("max_tokens") or 256),
                                            temperature=float(req.get("temperature") or 0.0))
            self._send(200, {
                "id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion", "created": int(time.time()),
                "model": req.get("model", model_name),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": n_in, "completion_tokens": n_out, "total_tokens": n_in + n_out},
            })

    return Handler


def vllm_available() -> bool:
    try:
        import importlib.util

        import torch
        return importlib.util.find_spec("vllm") is not None and torch.cuda.is_available()
    except ImportError:
        return False


def serve_forever(model_dir: str, host: str = "127.0.0.1", port: int = 8731, engine: str = "auto",
                  ready=print) -> None:
    """Serve until interrupted. engine: auto | vllm | transformers."""
    name = Path(model_dir).name
    if engine == "vllm" or (engine == "auto" and vllm_available()):
        cmd = [sys.executable, "-P", "-m", "vllm.entrypoints.openai.api_server", "--model", model_dir,
               "--served-model-name", name, "--host", host, "--port", str(port)]
        ready(f"serving {model_dir} with vLLM on http://{host}:{port}/v1")
        os.execvp(cmd[0], cmd)
    chat = TransformersChat(model_dir)
    server = ThreadingHTTPServer((host, port), make_handler(chat, name))
    ready(f"serving {model_dir} with transformers on http://{host}:{port}/v1 (device {chat.device})")
    try:
        server.serve_forever()
    finally:
        server.server_close()


# --- starting or reusing a server for `ouro repair --policy local:DIR` ---------------------

@dataclass
class ServerHandle:
    base_url: str
    model_name: str
    pid: int
    started_here: bool

    def stop(self) -> None:
        if self.started_here:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass


def _healthy(base_url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(base_url.rstrip("/") + "/models", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_server(model_dir: str | Path, state_dir: Path, timeout: float = 300.0) -> ServerHandle:
    """Reuse a healthy `ouro serve` for model_dir recorded under state_dir, or start one."""
    model_dir = Path(model_dir).resolve()
    if not (model_dir / "config.json").exists():
        raise FileNotFoundError(f"{model_dir}: not a model checkpoint (no config.json)")
    state_dir.mkdir(parents=True, exist_ok=True)
    record = state_dir / f"{hashlib.sha256(str(model_dir).encode()).hexdigest()[:16]}.json"
    if record.exists():
        info = json.loads(record.read_text())
        if _healthy(info["base_url"]):
            return ServerHandle(info["base_url"], info["model_name"], info["pid"], started_here=False)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    ouro = shutil.which("ouro") or str(Path(sys.executable).with_name("ouro"))
    log_path = state_dir / f"{record.stem}.log"
    with open(log_path, "ab") as log:  # the server keeps its own copy of the descriptor
        proc = subprocess.Popen([ouro, "serve", "--model", str(model_dir), "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"ouro serve exited with {proc.returncode}; see {log_path}")
        if _healthy(base_url):
            record.write_text(json.dumps({"base_url": base_url, "model_name": model_dir.name, "pid": proc.pid}))
            return ServerHandle(base_url, model_dir.name, proc.pid, started_here=True)
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGTERM)
    raise TimeoutError(f"ouro serve did not answer within {timeout:.0f}s; see {log_path}")
