"""Inline markup: `code`, **strong**, *emphasis*, [links](url), with HTML escaping."""
import html
import re

_CODE = re.compile(r"`([^`]+)`")
_STRONG = re.compile(r"\*\*(.+?)\*\*")
_EM = re.compile(r"\*(.+?)\*")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def render_inline(text):
    # Code spans are cut out first so that their contents are never treated as markup.
    pieces = []
    last = 0
    for match in _CODE.finditer(text):
        pieces.append(_markup(text[last:match.start()]))
        pieces.append(f"<code>{html.escape(match.group(1))}</code>")
        last = match.end()
    pieces.append(_markup(text[last:]))
    return "".join(pieces)


def _markup(text):
    text = html.escape(text, quote=False)
    text = _LINK.sub(lambda m: f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>', text)
    text = _STRONG.sub(r"<strong>\1</strong>", text)
    return _EM.sub(r"<em>\1</em>", text)
