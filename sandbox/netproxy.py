"""The environment build's only way out of its sandbox: an allow-listing HTTPS CONNECT proxy
on the host, reached through a UNIX socket bound into the build sandbox.

The build sandbox has no network of its own: on docker it runs with `--network none`, on bwrap
in a private network namespace (as every bwrap sandbox does); either way it has only a loopback
device of its own. The host's loopback services, the docker0 gateway, the host's abstract UNIX
sockets (they belong to a network namespace) and every other address are out of its reach.
The one thing it can reach is this proxy's socket, bound read-only into the sandbox at
`SOCKET_DIR_IN_SANDBOX` (connecting to a UNIX socket needs no write access to its mount).
Inside, guest/envbuild.py forwards a loopback port to that socket and points pip at it as its
HTTPS proxy.

The proxy accepts one request per connection, `CONNECT host:port`, and opens the tunnel only
when `host` is one of the package index's hosts (from pip's configuration on the host: its
index URLs and trusted hosts; PyPI's two hosts by default) on the port its URL names (443 for
https). With `--allow-external-deps` it also tunnels to any other host name on 443 or 80
whose every address is a public one (a name that resolves to a loopback, private, link-local
or otherwise non-global address is refused, so the flag does not open the host's own
services or its local network). Names are resolved here, on the host, once, and the tunnel
goes to the checked address; TLS stays end to end between pip and the index (pip checks the
certificate against the host's CA bundle). Anything else (a plain-HTTP request, a malformed
or oversized request line) is answered with an error status and closed. What was asked and
decided is kept in `decisions` (the build's notes name what was refused).
"""
from __future__ import annotations

import ipaddress
import os
import select
import shutil
import socket
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

SOCKET_NAME = "proxy.sock"
# Where the socket's directory is bound in the build sandbox: a directory every root file
# system ouro builds on has (Debian's /mnt), so bwrap's read-only root holds the mount point.
SOCKET_DIR_IN_SANDBOX = "/mnt"
PYPI_HOSTS = ("pypi.org", "files.pythonhosted.org")
_MAX_HEAD = 8192
_MAX_TUNNELS = 64
_HEAD_TIMEOUT = 30.0
_CONNECT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Decision:
    host: str
    port: int
    allowed: bool
    why: str


def index_hosts(urls: list[str], trusted: list[str] = ()) -> dict[str, set[int]]:
    """{host: ports} the proxy lets through for these index URLs and trusted hosts (pip's
    `trusted-host` may carry a port); PyPI's file host comes with PyPI."""
    out: dict[str, set[int]] = {}
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            continue
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            continue
        out.setdefault(parts.hostname.lower().rstrip("."), set()).add(port)
    for entry in trusted:
        host, _, port = entry.strip().rpartition(":") if entry.count(":") == 1 else (entry.strip(), "", "")
        if host:
            out.setdefault(host.lower().rstrip("."), set()).update({int(port)} if port.isdigit() else {443, 80})
    if "pypi.org" in out:
        out.setdefault("files.pythonhosted.org", set()).add(443)
    return out


def _public(addresses: list[str]) -> bool:
    try:
        return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses)
    except ValueError:
        return False


class IndexProxy:
    """`with IndexProxy(hosts, allow_public=False) as proxy:` a listening proxy whose socket is
    `proxy.socket_path` in the directory `proxy.dir` (bind that into the sandbox)."""

    def __init__(self, hosts: dict[str, set[int]], allow_public: bool = False):
        self.hosts = {h.lower().rstrip("."): set(p) for h, p in hosts.items()}
        self.allow_public = allow_public
        self.decisions: list[Decision] = []
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._slots = threading.BoundedSemaphore(_MAX_TUNNELS)
        self._stopping = threading.Event()
        # under /tmp (world-traversable) rather than a private TMPDIR: the sandbox uid and the
        # Docker daemon must both reach it
        self.dir = Path(tempfile.mkdtemp(prefix="ouro-proxy-", dir="/tmp" if os.path.isdir("/tmp") else None))
        os.chmod(self.dir, 0o755)   # the sandbox uid must reach the socket
        self.socket_path = self.dir / SOCKET_NAME
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(self.socket_path))
        os.chmod(self.socket_path, 0o666)
        self._server.listen(64)
        self._thread = threading.Thread(target=self._serve, name="ouro-index-proxy", daemon=True)
        self._thread.start()

    # -- the decision ---------------------------------------------------------------------
    def resolve(self, host: str, port: int) -> tuple[list[str], str]:
        """(addresses to connect to, "") when (host, port) may be reached, else ([], why)."""
        host = host.lower().rstrip(".")
        listed = self.hosts.get(host)
        if listed is not None and port not in listed:
            return [], f"{host} is the package index only on port {', '.join(map(str, sorted(listed)))}"
        if listed is None and not self.allow_public:
            return [], f"{host} is not a package index host (allowed: {', '.join(sorted(self.hosts)) or 'none'})"
        if listed is None and port not in (443, 80):
            return [], f"port {port} is not an https or http port"
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as e:
            return [], f"{host} does not resolve: {getattr(e, 'strerror', None) or e}"
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        if listed is None and not _public(addresses):
            return [], f"{host} resolves to a non-public address ({', '.join(addresses)})"
        return addresses, ""

    # -- serving ---------------------------------------------------------------------------
    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            if not self._slots.acquire(blocking=False):
                self._answer(conn, 503, "too many tunnels")
                conn.close()
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _track(self, s: socket.socket, add: bool) -> None:
        with self._lock:
            (self._open.add if add else self._open.discard)(s)

    @staticmethod
    def _answer(conn: socket.socket, status: int, reason: str) -> None:
        body = f"ouro's build proxy: {reason}\n".encode()
        head = f"HTTP/1.1 {status} {'Connection established' if status == 200 else 'Refused'}\r\n"
        if status != 200:
            head += f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
        try:
            conn.sendall(head.encode() + b"\r\n" + (body if status != 200 else b""))
        except OSError:
            pass

    def _read_head(self, conn: socket.socket) -> bytes | None:
        conn.settimeout(_HEAD_TIMEOUT)
        data = b""
        while b"\r\n\r\n" not in data:
            if len(data) > _MAX_HEAD:
                return None
            try:
                chunk = conn.recv(_MAX_HEAD)
            except OSError:
                return None
            if not chunk:
                return None
            data += chunk
        return data

    def _handle(self, conn: socket.socket) -> None:
        upstream = None
        self._track(conn, True)
        try:
            head = self._read_head(conn)
            if head is None:
                self._answer(conn, 400, "no complete request head within limits")
                return
            head, _, rest = head.partition(b"\r\n\r\n")
            parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
            if len(parts) != 3 or parts[0] != "CONNECT" or not parts[2].startswith("HTTP/1."):
                self._answer(conn, 405, "only CONNECT host:port is served (https to the package index)")
                return
            host, _, port_text = parts[1].rpartition(":")
            host = host.strip("[]")
            if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
                self._answer(conn, 400, "CONNECT needs host:port")
                return
            port = int(port_text)
            addresses, why = self.resolve(host, port)
            self.decisions.append(Decision(host, port, not why, why))
            if why:
                self._answer(conn, 403, why)
                return
            for address in addresses:
                try:
                    upstream = socket.create_connection((address, port), timeout=_CONNECT_TIMEOUT)
                    break
                except OSError:
                    continue
            if upstream is None:
                self._answer(conn, 502, f"cannot connect to {host}:{port}")
                return
            self._track(upstream, True)
            self._answer(conn, 200, "")
            if rest:
                upstream.sendall(rest)
            self._pump(conn, upstream)
        except (OSError, ValueError, UnicodeError):   # a peer that went away or spoke nonsense
            pass
        finally:
            for s in (conn, upstream):
                if s is not None:
                    self._track(s, False)
                    try:
                        s.close()
                    except OSError:
                        pass
            self._slots.release()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        a.settimeout(None)
        b.settimeout(None)
        peers = {a: b, b: a}
        open_ends = {a, b}
        while open_ends and not self._stopping.is_set():
            ready, _, _ = select.select(list(open_ends), [], [], 1.0)
            for s in ready:
                data = s.recv(1 << 16)
                if not data:
                    open_ends.discard(s)
                    try:
                        peers[s].shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    continue
                peers[s].sendall(data)

    # -- lifetime --------------------------------------------------------------------------
    def refused(self) -> list[str]:
        """One line per refused destination (host:port: why), in the order first asked."""
        out = {}
        for d in self.decisions:
            if not d.allowed:
                out.setdefault(f"{d.host}:{d.port}", d.why)
        return [f"{k} ({v})" for k, v in out.items()]

    def close(self) -> None:
        self._stopping.set()
        for end in (lambda: self._server.shutdown(socket.SHUT_RDWR), self._server.close):
            try:   # shutdown wakes the accept() that close() alone would leave waiting
                end()
            except OSError:
                pass
        with self._lock:
            conns = list(self._open)
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(5)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "IndexProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
