"""Plain-text tables with optional per-column width limits."""
from .align import align
from .widths import text_width
from .wrap import wrap


class Table:
    def __init__(self, headers, max_width=None, aligns=None, border=True):
        self.headers = [str(h) for h in headers]
        self.max_width = max_width
        self.aligns = list(aligns) if aligns else ["left"] * len(self.headers)
        if len(self.aligns) != len(self.headers):
            raise ValueError("one alignment per column")
        self.border = border
        self.rows = []

    def add_row(self, cells):
        cells = ["" if c is None else str(c) for c in cells]
        if len(cells) != len(self.headers):
            raise ValueError(f"expected {len(self.headers)} cells, got {len(cells)}")
        self.rows.append(cells)

    def _cell_lines(self, cell):
        if self.max_width is None:
            return cell.splitlines() or [""]
        return wrap(cell, self.max_width) or [""]

    def _widths(self, rows):
        widths = [text_width(h) for h in self.headers]
        for row in rows:
            for i, lines in enumerate(row):
                widths[i] = max([widths[i]] + [text_width(line) for line in lines])
        return widths

    def _render_row(self, lines_per_cell, widths, aligns):
        height = max(len(lines) for lines in lines_per_cell)
        out = []
        for n in range(height):
            parts = [align(lines[n] if n < len(lines) else "", w, how)
                     for lines, w, how in zip(lines_per_cell, widths, aligns)]
            out.append("| " + " | ".join(parts) + " |" if self.border else "  ".join(parts).rstrip())
        return out

    def render(self):
        body = [[self._cell_lines(c) for c in row] for row in self.rows]
        header = [[h] for h in self.headers]
        widths = self._widths(body + [header])
        rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        lines = self._render_row(header, widths, ["center"] * len(widths))
        if self.border:
            lines = [rule] + lines + [rule.replace("-", "=")]
        else:
            lines.append("  ".join("-" * w for w in widths))
        for row in body:
            lines.extend(self._render_row(row, widths, self.aligns))
        if self.border:
            lines.append(rule)
        return "\n".join(lines)
