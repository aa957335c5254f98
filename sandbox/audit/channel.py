"""The audit channel: how events get from the in-sandbox hook to the host.

The hook (sandbox/guest/audit_hook.py) writes each event as one stderr line
`\\x1eOURO-AUDIT {json}\\n` through a duplicate of fd 2 taken before user code ran, so
pytest's output capture and a reassigned sys.stderr do not hide it. The host reads stderr
as it streams out of the sandbox; once a line has left, the sandboxed code cannot take it
back. Code under test can write lines that look like events or break the framing; a marker
whose payload does not parse becomes an `audit_tamper` event, so a mangled channel is itself
recorded. Everything on this channel is a CLAIM from the sandbox: sandbox.audit.events
stores it with its provenance, caps it per execution and refuses what only the host assigns.

Control lines (`{"ctl": ...}`, no kind) come back as `{"kind": "_ctl", ...}` entries: the
hook's `hello`/`bye` per process and the exec wrapper's `reap-start`/`reap` (guest/reap.sh),
from which the host tells a complete channel from a silenced one.

Stdlib only: the CLI imports this on every sandboxed execution.
"""
from __future__ import annotations

import json

MARKER = "\x1eOURO-AUDIT "
MAX_EVENTS = 20000  # per execution, parsed; sandbox.audit.events keeps far fewer (per-kind caps)
CONTROL = "_ctl"


def split_audit_lines(stderr: str) -> tuple[str, list[dict]]:
    """Split hook events out of an execution's stderr.

    Returns (stderr without the event lines, events in the order they were written).
    Text the program wrote on the same line before a marker (no trailing newline yet)
    stays in the cleaned stderr.
    """
    if MARKER not in stderr:
        return stderr, []
    clean: list[str] = []
    events: list[dict] = []
    pos = 0
    while True:
        start = stderr.find(MARKER, pos)
        if start < 0:
            clean.append(stderr[pos:])
            break
        clean.append(stderr[pos:start])
        end = stderr.find("\n", start)
        payload = stderr[start + len(MARKER): end if end >= 0 else len(stderr)]
        pos = len(stderr) if end < 0 else end + 1
        if len(events) >= MAX_EVENTS:
            continue
        events.append(_parse(payload, truncated=end < 0))
    return "".join(clean), events


def _parse(payload: str, truncated: bool) -> dict:
    try:
        event = json.loads(payload)
    except ValueError:
        event = None
    if isinstance(event, dict) and isinstance(event.get("ctl"), str) and "kind" not in event:
        return {**event, "kind": CONTROL}
    if not isinstance(event, dict) or not isinstance(event.get("kind"), str) or event.get("kind") == CONTROL:
        why = "truncated" if truncated else "unparseable"
        return {"kind": "audit_tamper", "event": "channel", "detail": f"{why} audit line: {payload[:200]!r}",
                "source": "channel"}
    event.setdefault("source", "hook")
    return event
