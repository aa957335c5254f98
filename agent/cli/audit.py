"""`ouro audit list|show|summary|verify|selftest`: read, check and exercise the audit log."""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from datetime import datetime, timezone

from ouro.agent.cli.common import add_backend, add_policy_file, finish_command, home_of, print_json
from ouro.sandbox.core.errors import EXIT_FAILED, BadInput, PreconditionFailed

SEVERITY_ORDER = ("info", "low", "medium", "high", "critical")


def register(sub) -> None:
    p = sub.add_parser("audit", help="sandbox-escape audit: list, show, summarise and verify the audit log; red-team self-test",
                       description="Read and check the tamper-evident audit log (.ouro/audit/log.jsonl) and run the red-team self-test.\n"
                                   "exit codes: 0 ok, 1 verify found a bad record / selftest had an uncontained or unlogged attack,\n"
                                   "2 bad input, 3 precondition (backend missing).",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    asub = p.add_subparsers(dest="audit_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda a: (p.print_help(), 0)[1])

    lp = asub.add_parser("list", help="list audit events (newest last)")
    lp.add_argument("--run", help="only this run id")
    lp.add_argument("--kind", help="only this event kind (comma-separated for several)")
    lp.add_argument("--severity", choices=SEVERITY_ORDER, help="only events at least this severe")
    lp.add_argument("--since", help="ISO time (2026-11-28T14:00) or an age like 30m, 2h, 1d")
    lp.add_argument("--policy", help="only this proposal policy")
    lp.add_argument("--all", action="store_true", help="include the per-execution `exec` records")
    lp.add_argument("--limit", type=int, default=200, help="show at most this many (newest); default 200")
    finish_command(lp, cmd_list)

    sp = asub.add_parser("show", help="show one record in full")
    sp.add_argument("id", help="record number (seq)")
    finish_command(sp, cmd_show)

    mp = asub.add_parser("summary", help="counts and rates per 1,000 executions by kind, by policy and by run")
    mp.add_argument("--run", help="only this run id")
    mp.add_argument("--since", help="ISO time or an age like 30m, 2h, 1d")
    finish_command(mp, cmd_summary)

    vp = asub.add_parser("verify", help="check the hash chain and HMAC of every record; exit 1 naming the first bad one")
    vp.add_argument("--log", help="log file to verify (default: <home>/audit/log.jsonl; its key is read from the same directory)")
    vp.add_argument("--key", help="key file (default: key next to the log)")
    finish_command(vp, cmd_verify)

    tp = asub.add_parser("selftest", help="run the red-team corpus in a sandbox and check containment and logging")
    add_backend(tp, default="docker", help="the sandbox the attacks run in (local: NOT contained)")
    tp.add_argument("--only", help="comma-separated attack names or categories")
    add_policy_file(tp)
    finish_command(tp, cmd_selftest)


def _log(args):
    from ouro.sandbox.audit.log import default_log

    return default_log(home_of(args))


def parse_since(text: str | None) -> float | None:
    if not text:
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhd])", text.strip())
    if m:
        return time.time() - float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"--since {text!r}: expected an ISO time (2026-11-28T14:00) or an age like 30m, 2h, 1d") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _where(args, include_exec: bool) -> tuple[str, list]:
    clauses, params = [], []
    if getattr(args, "run", None):
        clauses.append("run_id = ?")
        params.append(args.run)
    if getattr(args, "policy", None):
        clauses.append("policy = ?")
        params.append(args.policy)
    kinds = [k.strip() for k in (getattr(args, "kind", None) or "").split(",") if k.strip()]
    if kinds:
        from ouro.sandbox.audit.events import KINDS

        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise BadInput(f"--kind: unknown kind {unknown[0]!r} (known: {', '.join(KINDS)})")
        clauses.append(f"kind IN ({','.join('?' * len(kinds))})")
        params.extend(kinds)
    elif not include_exec:
        clauses.append("kind != 'exec'")
    if getattr(args, "severity", None):
        allowed = SEVERITY_ORDER[SEVERITY_ORDER.index(args.severity):]
        clauses.append(f"severity IN ({','.join('?' * len(allowed))})")
        params.extend(allowed)
    since = parse_since(getattr(args, "since", None))
    if since is not None:
        clauses.append("epoch >= ?")
        params.append(since)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def cmd_list(args) -> int:
    if args.limit < 1:
        raise BadInput("--limit must be at least 1")
    db = _log(args).index()
    where, params = _where(args, include_exec=args.all)
    rows = db.execute(f"SELECT record FROM events{where} ORDER BY seq DESC LIMIT ?", (*params, args.limit)).fetchall()
    records = [json.loads(r[0]) for r in reversed(rows)]
    if args.json:
        print_json(records)
        return 0
    if not records:
        print("no audit events match")
        return 0
    print(f"{'ID':>6}  {'TIME':19}  {'SEVERITY':8}  {'KIND':17}  {'SOURCE':9}  {'RUN':14}  DETAIL")
    for r in records:
        print(f"{r['seq']:>6}  {r.get('ts', '')[:19]:19}  {r.get('severity', ''):8}  {r.get('kind', ''):17}  "
              f"{r.get('source', ''):9}  {r.get('run_id', '')[:14]:14}  {r.get('detail', '')[:90]}")
    return 0


def cmd_show(args) -> int:
    try:
        seq = int(args.id)
    except ValueError:
        raise BadInput(f"record id must be a number, got {args.id!r}") from None
    row = _log(args).index().execute("SELECT record FROM events WHERE seq = ?", (seq,)).fetchone()
    if row is None:
        raise BadInput(f"no audit record {seq}")
    rec = json.loads(row[0])
    if args.json:
        print_json(rec)
    else:
        for k in sorted(rec):
            print(f"{k:12} {rec[k]}")
    return 0


def summarize(db, where: str, params: list) -> dict:
    """Counts and rates per 1,000 executions by kind, by policy and by run."""
    def q(sql, *extra):
        return db.execute(sql, (*params, *extra)).fetchall()

    and_ = " AND " if where else " WHERE "
    execs = q(f"SELECT COUNT(*) FROM events{where}{and_}kind = 'exec'")[0][0]
    by_kind = {k: n for k, n in q(f"SELECT kind, COUNT(*) FROM events{where}{and_}kind != 'exec' GROUP BY kind ORDER BY 2 DESC")}

    def grouped(col: str) -> list[dict]:
        out = []
        totals = {g: n for g, n in q(f"SELECT {col}, COUNT(*) FROM events{where}{and_}kind = 'exec' GROUP BY {col}")}
        flagged = {g: n for g, n in q(f"SELECT {col}, COUNT(DISTINCT kind) FROM events{where}{and_}kind != 'exec' GROUP BY {col}")}
        kinds: dict[str, dict[str, int]] = {}
        for g, k, n in q(f"SELECT {col}, kind, COUNT(*) FROM events{where}{and_}kind != 'exec' GROUP BY {col}, kind"):
            kinds.setdefault(g, {})[k] = n
        for g in sorted(set(totals) | set(kinds), key=lambda x: (x or "")):
            n_exec = totals.get(g, 0)
            events = sum(kinds.get(g, {}).values())
            out.append({col if col != "run_id" else "run": g or "", "executions": n_exec, "events": events,
                        "kinds": flagged.get(g, 0),
                        "per_1000": round(1000 * events / n_exec, 1) if n_exec else None,
                        "by_kind": {k: {"count": n, "per_1000": round(1000 * n / n_exec, 1) if n_exec else None}
                                    for k, n in sorted(kinds.get(g, {}).items(), key=lambda kv: -kv[1])}})
        return out

    return {
        "executions": execs,
        "by_kind": [{"kind": k, "count": n, "per_1000": round(1000 * n / execs, 1) if execs else None}
                    for k, n in by_kind.items()],
        "by_policy": grouped("policy"),
        "by_run": grouped("run_id"),
    }


def cmd_summary(args) -> int:
    db = _log(args).index()
    where, params = _where(args, include_exec=True)
    s = summarize(db, where, params)
    if args.json:
        print_json(s)
        return 0
    print(f"executions: {s['executions']}")
    if not s["executions"] and not s["by_kind"]:
        print("the audit log is empty")
        return 0
    print("\nby kind                     count   per 1,000 executions")
    for r in s["by_kind"]:
        print(f"  {r['kind']:24} {r['count']:>7}   {_rate(r['per_1000'])}")
    for title, rows, key in (("by policy", s["by_policy"], "policy"), ("by run", s["by_run"], "run")):
        print(f"\n{title:42}  execs  events   per 1,000   top kinds (per 1,000)")
        for r in rows[:50]:
            top = ", ".join(f"{k} {_rate(v['per_1000'])}" for k, v in list(r["by_kind"].items())[:4])
            print(f"  {(r[key] or '-')[:40]:40} {r['executions']:>6} {r['events']:>7}   {_rate(r['per_1000']):>9}   {top}")
    return 0


def _rate(v) -> str:
    return "-" if v is None else f"{v:.1f}"


def cmd_verify(args) -> int:
    from pathlib import Path

    from ouro.sandbox.audit.log import AuditLog

    if args.log:
        path = Path(args.log)
        if not path.exists():
            raise BadInput(f"--log {args.log}: file not found")
        log = AuditLog(path, key_path=args.key)
    else:
        log = _log(args)
        if args.key:
            log = AuditLog(log.path, key_path=args.key)
    result = log.verify()
    if args.json:
        print_json({**result.to_dict(), "log": str(log.path)})
    elif result.ok:
        print(f"ok: {result.records} records verified ({log.path})")
    else:
        print(f"FAILED: {result.reason} ({log.path}; {result.records} records before it verified)")
    return 0 if result.ok else EXIT_FAILED


def cmd_selftest(args) -> int:
    from ouro.sandbox.audit.selftest import SelftestError, run_selftest

    from ouro.sandbox.local_backend import require_unsafe_local

    require_unsafe_local(args.backend, args.unsafe_local)
    policy = _policy_for(args)
    only = [x.strip() for x in (args.only or "").split(",") if x.strip()]
    try:
        report = run_selftest(args.backend, home=home_of(args), policy=policy, only=only or None,
                              progress=None if args.json else _progress)
    except SelftestError as e:
        raise PreconditionFailed(str(e)) from None
    if args.json:
        print_json([r.to_dict() for r in report.results])
    else:
        print(report.table())
    return 0 if report.passed else EXIT_FAILED


def _policy_for(args):
    from ouro.agent.cli.common import load_policy_arg

    return load_policy_arg(args, backend=args.backend)


def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
