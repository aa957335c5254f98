"""Operations on collections of intervals."""
from .interval import Interval


def merge(intervals):
    """Sorted, non-overlapping intervals covering the same minutes; touching ones are joined."""
    result = []
    for iv in sorted(intervals):
        if result and iv.start <= result[-1].end:
            last = result.pop()
            iv = Interval(last.start, max(last.end, iv.end))
        result.append(iv)
    return result


def subtract(base, holes):
    """The parts of base not covered by any of holes."""
    pieces = [base]
    for hole in merge(holes):
        next_pieces = []
        for piece in pieces:
            if not piece.overlaps(hole):
                next_pieces.append(piece)
                continue
            if piece.start < hole.start:
                next_pieces.append(Interval(piece.start, hole.start))
            if hole.end < piece.end:
                next_pieces.append(Interval(hole.end, piece.end))
        pieces = next_pieces
    return pieces


def total_minutes(intervals):
    return sum(iv.minutes for iv in merge(intervals))


def free_between(busy, start, end, min_minutes=1):
    """Free intervals inside [start, end) that last at least min_minutes."""
    return [iv for iv in subtract(Interval(start, end), busy) if iv.minutes >= min_minutes]
