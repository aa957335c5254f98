"""Blocks to HTML."""
import html

from .blocks import parse_blocks
from .inline import render_inline
from .toc import slugify


def render_block(block, taken):
    if block.kind == "heading":
        slug = slugify(block.text, taken)
        return f'<h{block.level} id="{slug}">{render_inline(block.text)}</h{block.level}>'
    if block.kind == "paragraph":
        return f"<p>{render_inline(block.text)}</p>"
    if block.kind == "list":
        tag = "ol" if block.ordered else "ul"
        items = "\n".join(f"<li>{render_inline(item)}</li>" for item in block.items)
        return f"<{tag}>\n{items}\n</{tag}>"
    if block.kind == "code":
        cls = f' class="language-{html.escape(block.lang)}"' if block.lang else ""
        return f"<pre><code{cls}>{html.escape(block.text)}</code></pre>"
    raise ValueError(f"unknown block kind {block.kind!r}")


def to_html(text):
    taken = set()
    return "\n".join(render_block(b, taken) for b in parse_blocks(text)) + "\n"
