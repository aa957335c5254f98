from impact.graph import importers_of


def affected(graph, changed):
    """changed and every module that imports it, directly or through other modules."""
    importers = importers_of(graph)
    seen = {changed}
    pending = []
    while pending:
        mod = pending.pop()
        for user in importers.get(mod, ()):
            if user not in seen:
                seen.add(user)
                pending.append(user)
    return seen


def retest_plan(graph, changed, tests):
    """The test modules (a dict module -> test file) to run after changing `changed`, sorted."""
    return sorted(tests[m] for m in affected(graph, changed) if m in tests)
