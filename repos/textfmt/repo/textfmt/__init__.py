"""textfmt: wrap text and lay out plain-text tables."""
from .align import align, center
from .table import Table
from .wrap import fill, wrap

__all__ = ["align", "center", "Table", "fill", "wrap"]
