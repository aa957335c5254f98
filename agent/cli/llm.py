"""`ouro llm replay`: serve a scripted OpenAI-compatible model, for tests and demos without a key."""
from __future__ import annotations

import argparse
import sys
import time

from ouro.agent.cli.common import finish_command, print_json


def register(sub) -> None:
    p = sub.add_parser("llm", help="language-model tools (the replay server)",
                       description="Language-model tools. `ouro repair --policy litellm:MODEL` uses the models.")
    llm_sub = p.add_subparsers(dest="llm_command", metavar="SUBCOMMAND")
    r = llm_sub.add_parser(
        "replay", help="serve scripted replies on an OpenAI-compatible /v1/chat/completions",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve a replay script (JSON, or YAML with PyYAML) as an OpenAI-compatible model "
                    "until interrupted. Point a client at the printed base URL, e.g.\n"
                    "  ouro repair --policy litellm:openai/replay --api-base URL ...\n"
                    "The script format is described in agent/llm/replay.py.",
        epilog="exit codes: 0 stopped by Ctrl-C or --duration, 2 bad script or port")
    r.add_argument("--script", required=True, help="the replay script (a list of replies, or {roles: ...})")
    r.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    r.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    r.add_argument("--record", help="append every request received to this JSONL file")
    r.add_argument("--duration", type=float, help="stop after this many seconds (default: run until Ctrl-C)")
    finish_command(r, _replay, home=False)
    p.set_defaults(func=lambda args: (p.print_help(), 0)[1])


def _replay(args) -> int:
    from ouro.sandbox.core.errors import BadInput
    from ouro.agent.llm.replay import ReplayServer, ScriptError

    if not 0 <= args.port <= 65535:
        raise BadInput(f"--port must be 0..65535, got {args.port}")
    try:
        server = ReplayServer(args.script, port=args.port, host=args.host, record_path=args.record)
        url = server.start()
    except ScriptError as e:
        raise BadInput(str(e)) from None
    except OSError as e:
        raise BadInput(f"cannot listen on {args.host}:{args.port}: {e.strerror}") from None
    counts = {role: len(q) for role, q in server.script.queues.items()}
    if args.json:
        print_json({"base_url": url, "port": server.port, "replies": counts})
    else:
        print(f"replaying {sum(counts.values())} scripted replies at {url}  (Ctrl-C to stop)")
    sys.stdout.flush()
    try:
        deadline = time.monotonic() + args.duration if args.duration else None
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    if not args.json:
        print(f"served {len(server.requests)} requests", file=sys.stderr)
    return 0
