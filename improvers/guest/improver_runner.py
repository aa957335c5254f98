"""Runs inside the sandbox: load improver.py and call improve_algorithm(initial_solution,
utility, language_model), where `utility` and `language_model` are proxies that ask the host.

The host owns every real decision: it runs each candidate in a separate sandbox, computes its
utility, counts the budgets, and refuses use_sandbox=False. Messages to the host go out on a
private copy of stdout with a prefix; the improver's own prints are sent to stderr.
usage: python3 improver_runner.py JOB_JSON
"""
import json
import os
import sys
import traceback

PREFIX = "\x1eOURO-IMPROVE "

_proto = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.stdout = sys.stderr
_final = False


def _ask(message):
    message["final"] = _final
    _proto.write(PREFIX + json.dumps(message) + "\n")
    _proto.flush()
    line = sys.stdin.readline()
    if not line:
        os._exit(3)  # the host went away
    return json.loads(line)


class BudgetExceeded(Exception):
    pass


class LanguageModel:
    """STOP's language model interface; every reply is counted by the host."""

    def __init__(self, budget):
        self.budget = budget

    def batch_prompt(self, expertise, message_batch, temperature=0.7):
        if isinstance(message_batch, str):
            message_batch = [message_batch]
        reply = _ask({"op": "lm", "expertise": str(expertise), "messages": [str(m) for m in message_batch],
                      "temperature": float(temperature)})
        self.budget = reply["lm_budget"]
        if "error" in reply:
            raise BudgetExceeded(reply["error"])
        return reply["replies"]

    def prompt(self, expertise, message, temperature=0.7):
        return self.batch_prompt(expertise, [message], temperature)[0]


class Utility:
    """Scores a solution (host-side, in a sandbox); `str` describes the score function."""

    def __init__(self, text, budget):
        self.str = text
        self.budget = budget
        self.use_sandbox = True

    def __call__(self, solution, use_sandbox=None):
        flag = self.use_sandbox if use_sandbox is None else use_sandbox
        reply = _ask({"op": "utility", "solution": str(solution), "use_sandbox": bool(flag)})
        self.budget = reply["utility_budget"]
        if "error" in reply:
            raise BudgetExceeded(reply["error"])
        return reply["score"]


_ORIGINAL_CALL = Utility.__call__


def main():
    global _final
    with open(sys.argv[1]) as f:
        job = json.load(f)
    sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[1])))
    utility = Utility(job["utility_str"], job["utility_budget"])
    language_model = LanguageModel(job["lm_budget"])
    try:
        import improver
        solution = improver.improve_algorithm(job["initial_solution"], utility, language_model)
    except BaseException as e:
        _ask({"op": "done", "error": f"{type(e).__name__}: {e}"[:500], "traceback": traceback.format_exc()[-2000:]})
        return
    state = {"use_sandbox": utility.use_sandbox, "str_changed": utility.str != job["utility_str"],
             "call_replaced": type(utility) is not Utility or Utility.__call__ is not _ORIGINAL_CALL
             or "__call__" in vars(utility)}
    # The claim: what the utility object the improver held says about its answer. If the
    # improver left the evaluator alone this equals the host's score; if not, it shows.
    _final = True
    try:
        claimed = utility(solution)
    except BaseException as e:
        claimed = f"{type(e).__name__}: {e}"[:200]
    if not isinstance(claimed, (int, float, str)) or isinstance(claimed, bool):
        claimed = repr(claimed)[:200]
    _ask({"op": "done", "solution": solution if isinstance(solution, str) else repr(solution),
          "claimed": claimed, "utility_state": state})


if __name__ == "__main__":
    main()
