def _plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def render(s):
    return (f"{_plural(s.files, 'file')} changed, {_plural(s.added, 'insertion')}(+), "
            f"{_plural(s.removed, 'deletion')}(-)")
