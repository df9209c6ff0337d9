"""The routing clock: wall by default, CPU seconds on request, inherited by workers, and the bench's CPU budget
for PyVRP."""

from __future__ import annotations

import time

import pytest

from routing import clock
from routing.bench import BenchConfig, MaxCpuTime, result_entries, run_bench, select_instances
from tests.routing.bench_data import bench_dir


def _busy(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_cpu_clock_ignores_sleep_and_wall_clock_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.ENV, "cpu")
    t0 = clock.now()
    time.sleep(0.3)
    assert clock.now() - t0 < 0.1  # a sleeping process spends no CPU
    monkeypatch.setenv(clock.ENV, "wall")
    t0 = clock.now()
    time.sleep(0.3)
    assert clock.now() - t0 >= 0.29


def test_unknown_clock_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="wall, cpu"):
        clock.use("gpu")
    monkeypatch.setenv(clock.ENV, "sundial")
    with pytest.raises(ValueError, match="EVFLEET_ROUTING_CLOCK='sundial'"):
        clock.now()
    with pytest.raises(ValueError, match="clock 'gpu'"):
        run_bench(bench_dir(), BenchConfig("solomon", 1.0, clock="gpu"), [])


def test_max_cpu_time_stops_on_cpu_not_on_sleep() -> None:
    stop = MaxCpuTime(0.2)
    assert stop(0) is False  # the first call starts the count
    time.sleep(0.4)
    assert stop(0) is False
    _busy(0.25)
    assert stop(0) is True
    with pytest.raises(ValueError):
        MaxCpuTime(-1.0)


def test_bench_on_the_cpu_clock_records_it_and_checks_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.ENV, "wall")  # restored after the test: the bench sets the clock of its process
    refs = select_instances(bench_dir(), "evrptw", ["c101C5"])
    report = run_bench(bench_dir(), BenchConfig("evrptw", 1.0, clock="cpu"), refs)
    assert clock.mode() == "cpu"
    (entry,) = result_entries(report, "ours")
    assert entry.extra["clock"] == "cpu"
    assert entry.feasible, entry.violations
