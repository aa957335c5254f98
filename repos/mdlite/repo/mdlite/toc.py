"""Heading anchors and a table of contents."""
import re

from .blocks import parse_blocks


def slugify(text, taken=None):
    slug = re.sub(r"[^\w\s-]", "", text.lower()).strip()
    slug = re.sub(r"[\s_-]+", "-", slug) or "section"
    if taken is not None:
        base, n = slug, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
    return slug


def table_of_contents(text, max_level=3):
    """[(level, title, slug)] for headings up to max_level, slugs unique in document order."""
    taken = set()
    out = []
    for block in parse_blocks(text):
        if block.kind == "heading":
            slug = slugify(block.text, taken)
            if block.level <= max_level:
                out.append((block.level, block.text, slug))
    return out
