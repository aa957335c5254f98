"""The executor: results in input order, per-job callbacks, errors that name the job, and a
process pool that really runs jobs in parallel."""
import os
import time

import pytest

from ouro.sandbox.core.executor import ExecutorError, make_executor


def square_with_pid(x):
    return (x * x, os.getpid())


def busy(seconds):
    # CPU-bound on purpose: a sleep would look parallel even on one core
    end = time.process_time() + seconds
    n = 0
    while time.process_time() < end:
        n += 1
    return os.getpid()


def explode(x):
    if x == 3:
        raise ValueError("three is bad")
    return x


@pytest.mark.parametrize("workers", [0, 1, 2])
def test_map_keeps_input_order_and_reports_each_result(workers):
    seen = []
    ex = make_executor(workers=workers)
    try:
        out = ex.map(square_with_pid, range(6), on_result=lambda i, r: seen.append(i))
    finally:
        ex.close()
    assert [r[0] for r in out] == [0, 1, 4, 9, 16, 25]
    assert sorted(seen) == list(range(6))
    if workers:
        assert all(pid != os.getpid() for _, pid in out)


def test_pool_of_two_uses_two_processes():
    ex = make_executor(workers=2)
    try:
        pids = ex.map(busy, [0.4] * 4)
    finally:
        ex.close()
    assert len(set(pids)) == 2


def test_failing_job_is_named():
    ex = make_executor(workers=2)
    try:
        with pytest.raises(ExecutorError, match=r"job 3 .*ValueError: three is bad"):
            ex.map(explode, range(5))
    finally:
        ex.close()


def test_negative_workers_is_bad_input():
    from ouro.sandbox.core.errors import BadInput

    with pytest.raises(BadInput):
        make_executor(workers=-1)
