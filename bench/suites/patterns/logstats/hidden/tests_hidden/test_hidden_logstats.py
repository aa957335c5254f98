from logstats import count_levels, summary


def test_blank_and_whitespace_lines():
    c = count_levels(["", "   ", "INFO a", "\t", "DEBUG b"])
    assert c == {"DEBUG": 1, "INFO": 1, "WARNING": 0, "ERROR": 0}


def test_summary_of_a_file_ending_in_blank_lines():
    assert summary("ERROR x\n\n\n") == "error=1 (worst: ERROR)"
    assert summary("\n\n") == "empty (worst: none)"
