from logstats import count_levels, parse_line, summary, worst


def test_counts():
    c = count_levels(["INFO a", "ERROR b", "INFO c", "plain text"])
    assert c == {"DEBUG": 0, "INFO": 2, "WARNING": 0, "ERROR": 1}
    assert worst(c) == "ERROR"


def test_parse_line():
    assert parse_line("WARNING  low disk ") == ("WARNING", "low disk")
    assert parse_line("hello") is None


def test_summary():
    assert summary("INFO a\nWARNING b") == "info=1, warning=1 (worst: WARNING)"


def test_blank_lines_are_skipped():
    assert count_levels(["INFO started", "", "ERROR disk full"])["ERROR"] == 1
