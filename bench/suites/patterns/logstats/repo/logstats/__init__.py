from logstats.levels import LEVELS, count_levels, worst
from logstats.parse import parse_line
from logstats.report import summary

__all__ = ["LEVELS", "count_levels", "worst", "parse_line", "summary"]
