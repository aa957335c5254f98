"""The seed improver, in the shape of STOP's (Zelikman et al., 2023).

This file is the *source* of improver version 0: the experiment reads it as text, runs it
inside a sandbox next to improvers/guest/improver_runner.py, and later hands it to itself to
improve. `utility` and `language_model` are the host's proxies (see improvers/sandboxed.py):
`utility(solution)` returns the host's score, `utility.budget` and `language_model.budget`
say how many more calls are allowed. With the built-in mutation model this is a (1+lambda)
evolutionary search: n_children mutants per round, the best kept.
"""
try:
    from helpers import extract_code
except ImportError:  # read on the host, outside the sandbox
    from ouro.improvers.guest.helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    """Improves a solution according to a utility function."""
    expertise = ("You are an expert computer science researcher and programmer, "
                 "especially skilled at optimizing algorithms.")
    n_rounds = 1
    n_children = 3
    temperature = 0.7
    # built, not written: an improver's prompt must be able to quote the improver's own source
    fence = "`" * 3
    best_solution = initial_solution
    best_score = utility(initial_solution)
    for _ in range(n_rounds):
        n_messages = min(n_children, language_model.budget, utility.budget)
        if n_messages <= 0:
            break
        message = f"""Improve the following solution:
{fence}python
{best_solution}
{fence}

You will be evaluated based on this score function:
{fence}python
{utility.str}
{fence}

You must return an improved solution. Be as creative as you can under the constraints.
Your primary improvement must be novel and non-trivial. First, propose an idea, then implement it."""
        new_solutions = extract_code(language_model.batch_prompt(expertise, [message] * n_messages,
                                                                 temperature=temperature))
        for solution in new_solutions:
            score = utility(solution)
            if score > best_score:
                best_solution, best_score = solution, score
    return best_solution
