"""A scaffold rewrite's ordering, served inside the sandbox for one repair.

    python3 _ouro/scaffold_ranker.py _ouro/scaffold.py

Loads the rewrite (its module code runs here, never on the host) and answers the host's rank
requests for the whole repair, one JSON object per line (improvers.scaffold.SandboxedRanker is
the other end):
  -> {"kind": "ready"} | {"kind": "error", "error": "..."}                    once, at start
  <- {"op": "context", "issue", "target_tests", "base_files", "localization"}  when it changes (no reply)
  <- {"op": "rank", "id", "candidates": [[file, line, template, before, after, function, weight, context]],
      "node_files": {path: text}}
  -> {"id", "scores": [...]} | {"id", "error": "..."}
The channel is a private copy of stdout taken before the rewrite runs; fd 1 then points at
/dev/null, so nothing the rewrite prints reaches the host as a reply. Whatever the rewrite
does (open a host path, connect a socket) meets the sandbox, and the audit hook installed in
this interpreter streams it to the host on stderr.

Stdlib only; imports nothing of ouro.
"""
import json
import os
import sys


class Candidate:
    """What rank() sees of a candidate: the fields of agent.templates.Candidate, less the new text."""

    def __init__(self, row):
        (self.file, self.line, self.template, self.before, self.after, self.function, self.weight,
         self.context) = row


class Suspicious:
    def __init__(self, row):
        self.file, self.line, self.score, self.function = row


class Localization:
    def __init__(self, rows):
        self.lines = [Suspicious(r) for r in rows]


class Context:
    """What rank() sees of the repair (agent.policies.base.RankContext's fields)."""

    def __init__(self, issue, target_tests, base_files, localization, node_files):
        self.issue, self.target_tests, self.base_files = issue, target_tests, base_files
        self.localization, self.node_files = localization, node_files

    def get(self, key, default=None):   # old rewrites read the context like a dict
        return getattr(self, key, default)


def main(argv):
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")

    def send(msg):
        channel.write(json.dumps(msg) + "\n")

    try:
        with open(argv[1], encoding="utf-8") as f:
            source = f.read()
        namespace = {"__name__": "scaffold"}
        exec(compile(source, "scaffold.py", "exec"), namespace)
        rank = namespace.get("rank")
        if not callable(rank):
            raise TypeError("the scaffold defines no rank(candidates, context)")
    except BaseException as e:  # noqa: BLE001 - any failure to load is the rewrite's
        send({"kind": "error", "error": f"{type(e).__name__}: {e}"[:500]})
        return 1
    send({"kind": "ready"})
    ctx = {"issue": "", "target_tests": [], "base_files": {}, "localization": Localization([])}
    for line in sys.stdin:
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("op") == "context":
            ctx = {"issue": msg.get("issue", ""), "target_tests": msg.get("target_tests", []),
                   "base_files": msg.get("base_files", {}), "localization": Localization(msg.get("localization", []))}
            continue
        if msg.get("op") != "rank":
            continue
        try:
            cands = [Candidate(r) for r in msg["candidates"]]
            scores = list(rank(cands, Context(node_files=msg.get("node_files", {}), **ctx)))
            send({"id": msg.get("id"), "scores": scores})
        except BaseException as e:  # noqa: BLE001 - the rewrite's failure, reported, not ours
            try:
                send({"id": msg.get("id"), "error": f"{type(e).__name__}: {e}"[:500]})
            except (TypeError, ValueError):
                send({"id": msg.get("id"), "error": "rank returned something that is not JSON"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
