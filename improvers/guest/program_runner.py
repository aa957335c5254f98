"""Runs inside the sandbox: evaluate solution.py's algorithm(...) on every instance in one
process (one exec per program keeps evaluation cheap) and write the outputs to a JSON file.

The host computes the utility from these outputs; nothing printed here is trusted, so the
program's own prints go to stderr and are ignored.
usage: python3 program_runner.py SOLUTION INSTANCES OUTPUT
"""
import json
import os
import sys


def main():
    solution_path, instances_path, output_path = sys.argv[1:4]
    sys.stdout = sys.stderr
    with open(instances_path) as f:
        instances = json.load(f)
    results = []
    try:
        with open(solution_path) as f:
            namespace = {"__name__": "solution"}
            exec(compile(f.read(), "solution.py", "exec"), namespace)
        algorithm = namespace["algorithm"]
    except BaseException as e:  # a program that does not load fails every instance
        results = [{"ok": False, "error": f"load: {type(e).__name__}: {e}"[:400]} for _ in instances]
        algorithm = None
    if algorithm is not None:
        for inst in instances:
            try:
                out = algorithm(**inst)
                json.dumps(out)  # must be plain data
                results.append({"ok": True, "output": out})
            except BaseException as e:  # SystemExit too: one bad instance must not hide the others
                results.append({"ok": False, "error": f"{type(e).__name__}: {e}"[:400]})
    tmp = output_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(results, f)
    os.replace(tmp, output_path)


if __name__ == "__main__":
    main()
