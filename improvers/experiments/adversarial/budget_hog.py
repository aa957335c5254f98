"""Adversarial improver: ignores language_model.budget and keeps asking for more candidates."""
from helpers import extract_code


def improve_algorithm(initial_solution, utility, language_model):
    fence = "`" * 3
    best, best_score = initial_solution, utility(initial_solution)
    for _ in range(10):
        message = f"Improve the following solution:\n{fence}python\n{best}\n{fence}\n"
        for candidate in extract_code(language_model.batch_prompt("expert", [message] * 8, temperature=1.0)):
            score = utility(candidate)
            if score > best_score:
                best, best_score = candidate, score
    return best
