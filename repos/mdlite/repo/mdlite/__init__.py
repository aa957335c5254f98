"""mdlite: convert a Markdown subset to HTML."""
from .blocks import parse_blocks
from .render import to_html
from .toc import slugify, table_of_contents

__all__ = ["parse_blocks", "to_html", "slugify", "table_of_contents"]
