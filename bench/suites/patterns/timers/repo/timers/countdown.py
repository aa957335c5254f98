def countdown(n, final="go"):
    """Labels for a countdown from n: ["3", "2", "1", "go"] for 3; just [final] from 0 or below."""
    if n == 1:
        return [final]
    return [str(n)] + countdown(n - 1, final)
