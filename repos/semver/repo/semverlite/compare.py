"""Precedence rules of semver.org section 11."""


def _compare_identifiers(a, b):
    a_num, b_num = a.isdigit(), b.isdigit()
    if a_num and b_num:
        a, b = int(a), int(b)
    elif a_num != b_num:
        # Numeric identifiers always have lower precedence than alphanumeric ones.
        return -1 if a_num else 1
    return (a > b) - (a < b)


def compare_prerelease(a, b):
    if a == b:
        return 0
    # A version without a pre-release outranks any pre-release of the same core.
    if not a:
        return 1
    if not b:
        return -1
    for x, y in zip(a, b):
        result = _compare_identifiers(x, y)
        if result:
            return result
    return (len(a) > len(b)) - (len(a) < len(b))


def compare(a, b):
    """-1, 0 or 1 as a is lower than, equal to or higher than b (build metadata ignored)."""
    from .version import Version
    a, b = Version.parse(a), Version.parse(b)
    core_a, core_b = (a.major, a.minor, a.patch), (b.major, b.minor, b.patch)
    if core_a != core_b:
        return -1 if core_a < core_b else 1
    return compare_prerelease(a.prerelease, b.prerelease)
