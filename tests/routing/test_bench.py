"""Benchmark harness and CLI: instance selection, gaps, PyVRP peer, a tiny end-to-end run, every answer checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fleet.cli.main import app
from routing.bench import (
    BenchConfig,
    gap_pct,
    locate_bench_dir,
    reference_distance,
    result_entries,
    run_bench,
    run_pyvrp,
    select_instances,
)
from routing.check_bench import check_result_file
from routing.io.bks import BestKnown, read_bks
from routing.io.json_io import write_problem_json
from routing.problem import Battery, Job, Location, Objective, RoutingProblem, TimeWindow, VehicleType
from tests.routing.bench_data import bench_dir

runner = CliRunner()


def test_locate_bench_dir_explicit_and_missing(tmp_path: Path) -> None:
    assert locate_bench_dir(bench_dir()) == bench_dir()
    with pytest.raises(FileNotFoundError, match="no benchmark folder"):
        locate_bench_dir(tmp_path)


def test_select_instances_filters_and_errors() -> None:
    bd = bench_dir()
    assert len(select_instances(bd, "solomon")) == 56
    assert [r.name for r in select_instances(bd, "solomon", ["r101", "C201"])] == ["R101", "C201"]
    small = select_instances(bd, "evrptw", sizes=[5, 10])
    assert len(small) == 24 and {r.size for r in small} == {5, 10}
    assert len(select_instances(bd, "evrptw", sizes=[100])) == 56
    with pytest.raises(ValueError, match=r"unknown solomon instance\(s\) \['X1'\]"):
        select_instances(bd, "solomon", ["X1"])
    with pytest.raises(ValueError, match=r"--size \[7\]: evrptw has sizes \[5, 10, 15, 100\]"):
        select_instances(bd, "evrptw", sizes=[7])
    with pytest.raises(ValueError, match="unknown suite"):
        select_instances(bd, "cvrp")


def test_homberger_suite_sizes_and_best_known() -> None:
    bd = bench_dir()
    if not (bd / "homberger").is_dir():
        pytest.skip("shared/bench has no homberger/ folder")
    h200 = select_instances(bd, "homberger", sizes=[200])
    assert len(h200) == 60 and {r.size for r in h200} == {200}
    assert [r.name for r in select_instances(bd, "homberger", ["r1_10_1"])] == ["R1_10_1"]
    with pytest.raises(ValueError, match=r"--size \[400\]: homberger has sizes \[200, 1000\]"):
        select_instances(bd, "homberger", sizes=[400])
    bks = read_bks(bd / "homberger" / "bks.csv")
    assert "C1_2_3" not in bks  # listed without a best-known solution: no gap, not an error
    assert (bks["C1_2_1"].vehicles, bks["C1_2_1"].distance) == (20, 2704.57)


def test_gap_is_signed_and_uses_the_right_reference() -> None:
    bks = BestKnown("R101", 19, 1650.80, distance_only=1642.88)
    assert reference_distance(bks, Objective.HIERARCHICAL) == 1650.80
    assert reference_distance(bks, Objective.DISTANCE) == 1642.88
    assert gap_pct(1667.308, 1650.80) == pytest.approx(1.0, abs=1e-3)
    assert gap_pct(1634.292, 1650.80) == pytest.approx(-1.0, abs=1e-3)
    assert gap_pct(100.0, None) is None


def test_pyvrp_peer_routes_are_checked() -> None:
    (ref,) = select_instances(bench_dir(), "solomon", ["C101"])
    # An iteration budget, not 1 s: at load 4-6 PyVRP got 40 iterations in its second and returned an infeasible
    # best, which the checker rightly reported; the answer now does not depend on the machine's load.
    config = BenchConfig("solomon", 1.0, Objective.HIERARCHICAL, seed=1, peer_iterations=1000)
    result = run_pyvrp(ref, config)
    assert result.solver == "pyvrp"
    assert result.feasible, result.violations
    assert sorted(c for r in result.routes for c in r) == list(range(1, 101))
    assert result.vehicles == len(result.routes) >= 10  # BKS fleet is 10
    assert result.distance >= 828.93  # BKS 828.94, rounded


def test_end_to_end_bench_runs_ours_on_evrptw_and_solomon(tmp_path: Path) -> None:
    pytest.importorskip("routing.solve")
    bd = bench_dir()
    for suite, name, limit in (("evrptw", "c208C5", 1.0), ("solomon", "C101", 2.0)):
        out = tmp_path / f"{suite}.json"
        result = runner.invoke(
            app,
            [
                "bench",
                "routing",
                "--suite",
                suite,
                "--instances",
                name,
                "--time-limit",
                str(limit),
                "--out",
                str(out),
                "--bench-dir",
                str(bd),
            ],
        )
        assert result.exit_code == 0, result.output
        data = json.loads(out.read_text())
        (entry,) = data["results"]
        assert set(entry) >= {"instance", "routes", "distance", "vehicles", "seconds", "feasible"}
        assert entry["instance"] == name and entry["bks_vehicles"] is not None
        ((solver, check),) = check_result_file(out, suite, bd)
        assert solver == "evfleet"
        assert check.feasible == entry["feasible"], check.summary()
        assert check.vehicles == entry["vehicles"]
        assert check.distance == pytest.approx(entry["distance"], abs=1e-4)
        assert name in result.output and "gap" in result.output
        if suite == "evrptw":
            assert entry["feasible"], entry["violations"]
            assert entry["vehicles"] == 1  # the 5-customer optimum uses one vehicle
            assert all(isinstance(s, str) for r in entry["routes"] for s in r)
        else:
            assert all(isinstance(c, int) for r in entry["routes"] for c in r)


def test_bench_jobs_side_by_side_keeps_instance_order_and_pairs(tmp_path: Path) -> None:
    """`--jobs 2`: instances and solvers run in two processes; rows stay in instance order, each row holds
    both solvers' checked answers for that instance, and the file is rewritten as rows complete."""
    pytest.importorskip("routing.solve")
    bd = bench_dir()
    refs = select_instances(bd, "solomon", ["C201", "C101"])
    seen: list[list[str]] = []
    report = run_bench(
        bd,
        BenchConfig("solomon", 1.0, peer="pyvrp", jobs=2),
        refs,
        on_row=lambda rep: seen.append([r.instance for r in rep.rows]),
    )
    assert [r.instance for r in report.rows] == ["C201", "C101"]
    assert seen == [["C201"], ["C201", "C101"]]
    for row in report.rows:
        assert row.ours is not None and row.ours.instance == row.instance and row.ours.solver == "evfleet"
        assert row.peer is not None and row.peer.instance == row.instance and row.peer.solver == "pyvrp"
        assert row.ours.feasible, row.ours.violations
        assert row.peer.feasible, row.peer.violations
        assert row.ours.vehicles == row.bks.vehicles  # C101: 10, C201: 3, found within a second
    with pytest.raises(ValueError, match="jobs must be >= 1"):
        run_bench(bd, BenchConfig("solomon", 1.0, jobs=0), refs)


def test_bench_cli_peer_alone_writes_peer_results(tmp_path: Path) -> None:
    out, md = tmp_path / "r.json", tmp_path / "r.md"
    result = runner.invoke(
        app,
        [
            "bench",
            "routing",
            "--suite",
            "solomon",
            "--instances",
            "C201",
            "--time-limit",
            "1",
            "--peer",
            "pyvrp",
            "--no-ours",
            "--out",
            str(out),
            "--bench-dir",
            str(bench_dir()),
            "--markdown",
            str(md),
        ],
    )
    assert result.exit_code == 0, result.output
    assert md.read_text().startswith("| instance | BKS veh | BKS dist | pyvrp veh |")
    assert "| C201 | 3 | 591.56 |" in md.read_text()
    data = json.loads(out.read_text())
    assert data["results"] == []
    (peer,) = data["peer_results"]
    assert peer["solver"] == "pyvrp" and peer["instance"] == "C201" and peer["feasible"] is True
    assert data["meta"]["summary"]["pyvrp"]["instances"] == 1
    check = runner.invoke(
        app, ["route", "check-results", str(out), "--suite", "solomon", "--bench-dir", str(bench_dir())]
    )
    assert check.exit_code == 0, check.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--suite", "solomon", "--instances", "Z999"], "unknown solomon instance"),
        (["--suite", "evrptw", "--peer", "pyvrp"], "Solomon and Homberger suites only"),
        (["--suite", "solomon", "--size", "5"], "--size applies to the evrptw and homberger suites only"),
        (["--suite", "evrptw", "--size", "five"], "expected integers"),
        (["--time-limit", "0"], "must be positive"),
        (["--no-ours"], "nothing to run"),
        (["--peer", "ortools"], "only 'pyvrp'"),
        (["--jobs", "0"], "--jobs must be >= 1"),
        (["--clock", "gpu"], "expected wall or cpu"),
        (["--set", "TW_RESET"], "expected NAME=value"),
        (["--set", "NO_SUCH_KNOB=1"], "not a setting of routing.plain"),
        (["--set", "_now=1"], "not a setting of routing.plain"),
        (["--set", "TW_RESET=high"], "expected a float"),
        (["--set", "TW_LAST_STEP=maybe"], "expected a bool"),
    ],
)
def test_bench_cli_errors_are_clear(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["bench", "routing", *args, "--bench-dir", str(bench_dir())])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_bench_cli_set_runs_a_variant_and_records_it(tmp_path: Path) -> None:
    """``--set`` changes the search for that run only (the counters alone leave no time-warp phase in the notes)
    and is written into the result file, so a variant arm has a command that reproduces it."""
    from routing import plain

    out = tmp_path / "r.json"
    before = (plain.FLEET_METHOD, plain.TW_RESET)
    assert before != ("counters", 5.0)
    args = ["bench", "routing", "--suite", "solomon", "--instances", "C201", "--time-limit", "1"]
    args += ["--bench-dir", str(bench_dir()), "--set", "FLEET_METHOD=counters", "--set", "TW_RESET=5"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["meta"]["settings"] == {"FLEET_METHOD": "counters", "TW_RESET": "5"}
    (ours,) = data["results"]
    assert ours["feasible"] and ours["settings"] == data["meta"]["settings"]
    assert not any("time warp" in p for p in ours["phases"]), ours["phases"]
    assert before == (plain.FLEET_METHOD, plain.TW_RESET)  # put back after the solve
    plain_run = runner.invoke(app, [*args[:-4], "--out", str(tmp_path / "p.json")])
    assert plain_run.exit_code == 0, plain_run.output
    (default,) = json.loads((tmp_path / "p.json").read_text())["results"]
    assert "settings" not in default and any("time warp" in p for p in default["phases"])


def test_bench_cli_missing_bench_dir(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bench", "routing", "--bench-dir", str(tmp_path)])
    assert result.exit_code == 2 and "no benchmark folder" in result.output


def test_route_solve_and_check_cli(tmp_path: Path) -> None:
    pytest.importorskip("routing.solve")
    problem = RoutingProblem(
        locations=(Location("D", x=0, y=0), Location("A", x=3, y=4), Location("B", x=6, y=8)),
        jobs=(
            Job("a", "A", 100.0, (TimeWindow(0, 100),), 5.0),
            Job("b", "B", 100.0, (TimeWindow(0, 200),), 5.0),
        ),
        vehicle_types=(VehicleType("ev", 1, 1000.0, "D", battery=Battery(100.0, 0.5), speed_kmh=60.0),),
        name="cli-tiny",
    )
    pfile, sfile = tmp_path / "p.json", tmp_path / "s.json"
    write_problem_json(problem, pfile)
    result = runner.invoke(app, ["route", "solve", str(pfile), "--time-limit", "1", "--out", str(sfile)])
    assert result.exit_code == 0, result.output
    sol = json.loads(sfile.read_text())
    assert sol["totals"]["vehicles"] == 1 and sol["totals"]["distance_km"] == pytest.approx(20.0)
    check = runner.invoke(app, ["route", "check", str(pfile), str(sfile)])
    assert check.exit_code == 0 and "feasible" in check.output
    # Tamper with the solution: the checker names the broken figure and exits 1.
    sol["routes"][0]["distance_km"] = 1.0
    sfile.write_text(json.dumps(sol))
    bad = runner.invoke(app, ["route", "check", str(pfile), str(sfile)])
    assert bad.exit_code == 1 and "distance_km" in bad.output


def test_route_solve_cli_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"locations": [], "jobs": [], "vehicle_types": []}')
    result = runner.invoke(app, ["route", "solve", str(path), "--time-limit", "1"])
    assert result.exit_code == 2 and "locations" in result.output and "Traceback" not in result.output
    missing = runner.invoke(app, ["route", "solve", str(tmp_path / "none.txt"), "--format", "solomon"])
    assert missing.exit_code == 2 and "cannot read" in missing.output


def test_routing_matrix_bench_cli(tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    result = runner.invoke(
        app, ["bench", "routing-matrix", "--points", "300", "--repeat", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(out.read_text())["results"]
    assert entry["points"] == 300 and len(entry["seconds"]) == 2
    assert entry["geodesic_max_relative_error"] < 0.005


def test_routing_city_cli_checks_every_plan(tmp_path: Path) -> None:
    pytest.importorskip("routing.solve")
    out = tmp_path / "c.json"
    result = runner.invoke(
        app, ["bench", "routing-city", "--stops", "15", "--time-limit", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    (row,) = json.loads(out.read_text())["results"]
    assert row["stops"] == 15 and row["served"] + len(row["unserved"]) == 15
    assert row["feasible"] is True, row["violations"]
    bad = runner.invoke(app, ["bench", "routing-city", "--stops", "10,20", "--time-limit", "1,2,3"])
    assert bad.exit_code == 2 and "one positive --time-limit" in bad.output


def test_distance_objective_compares_with_the_distance_only_bks() -> None:
    from routing.bench import BenchReport, BenchRow
    from routing.io.results import BenchResult

    bks = BestKnown("R101", 19, 1650.80, distance_only=1642.88, distance_only_vehicles=20)
    ours = BenchResult("R101", [], 1659.31, 20, 1.0, True)
    report = BenchReport(BenchConfig("solomon", 1.0, Objective.DISTANCE), [BenchRow("R101", 100, bks, ours)])
    s = report.summary("ours")
    assert s["vehicles_at_bks"] == 1 and s["mean_gap_pct_at_bks_fleet"] == pytest.approx(1.0, abs=1e-3)
    hier = BenchReport(
        BenchConfig("solomon", 1.0, Objective.HIERARCHICAL), [BenchRow("R101", 100, bks, ours)]
    )
    h = hier.summary("ours")
    assert h["vehicles_at_bks"] == 0 and h["vehicles_within_bks_plus_1"] == 1
    assert h["mean_gap_pct_at_bks_fleet"] is None
    assert h["mean_gap_pct_all_feasible"] == pytest.approx(0.5155, abs=1e-3)


def test_routing_fuzz_cli_records_a_verdict_per_seed(tmp_path: Path) -> None:
    pytest.importorskip("routing.solve")
    out, failures = tmp_path / "f.json", tmp_path / "failing"
    result = runner.invoke(
        app,
        [
            "bench",
            "routing-fuzz",
            "--seeds",
            "9-11",
            "--time-limit",
            "0.5",
            "--out",
            str(out),
            "--save-failures",
            str(failures),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())["results"]
    assert [r["seed"] for r in rows] == [9, 10]
    assert all(r["verdict"] in {"ok", "violation", "crash"} for r in rows)
    failing = {f"fuzz-{r['seed']}.json" for r in rows if r["verdict"] != "ok"}
    saved = {p.name for p in failures.glob("*.json")} if failures.exists() else set()
    assert saved == failing
    bad = runner.invoke(app, ["bench", "routing-fuzz", "--seeds", "5"])
    assert bad.exit_code == 2 and "START-END" in bad.output


def test_a_solver_crash_is_recorded_not_fatal() -> None:
    def broken(problem, **kw):
        raise RuntimeError("boom")

    refs = select_instances(bench_dir(), "evrptw", ["c101C5", "c103C5"])
    lines: list[str] = []
    report = run_bench(bench_dir(), BenchConfig("evrptw", 1.0), refs, progress=lines.append, solve=broken)
    assert [r.ours.feasible for r in report.rows] == [False, False]
    done = [x for x in lines if " done (" in x]  # one line per finished instance, with the time left
    assert (
        len(done) == 2
        and done[0].startswith("c101C5 done (1/2,")
        and "min left): evfleet infeasible" in done[0]
    )
    assert report.rows[0].ours.violations == ["crash: RuntimeError: boom"]
    assert report.summary("ours")["feasible"] == 0
    assert result_entries(report, "ours")[0].to_dict()["distance"] is None  # valid JSON, no Infinity


def test_routing_lns_bench_runs_the_same_search_both_ways() -> None:
    (ref,) = select_instances(bench_dir(), "solomon", ["C101"])
    result = runner.invoke(app, ["bench", "routing-lns", str(ref.path), "--iterations", "30"])
    assert result.exit_code == 0, result.output
    assert "compiled" in result.output and "python" in result.output and "load:" in result.output
    from routing.bench import lns_rates

    slow, fast = lns_rates(ref.path, 20)
    assert (slow.compiled, fast.compiled) == (False, True)
    assert slow.iterations == fast.iterations == 20 and fast.best_km == pytest.approx(slow.best_km)
    (ev,) = select_instances(bench_dir(), "evrptw", ["c101_21"])
    py, comp, dp = lns_rates(ev.path, 20)
    assert [(r.compiled, r.stations) for r in (py, comp, dp)] == [(False, False), (True, False), (True, True)]
    assert comp.best_km == pytest.approx(py.best_km) and dp.iterations == 20
    bad = runner.invoke(app, ["bench", "routing-lns", str(ref.path), "--iterations", "0"])
    assert bad.exit_code == 2 and "--iterations" in bad.output


def test_versus_peer_names_every_instance_where_we_use_more_vehicles() -> None:
    """Issue 25's criterion head to head: more vehicles than the peer anywhere, an instance only the peer
    solves, or a mean gap at equal fleets above the peer's + 0.5 points each fail it."""
    from routing.bench import BenchReport, BenchRow
    from routing.io.results import BenchResult

    def row(
        name: str, bks_km: float, ours: tuple[int, float, bool], peer: tuple[int, float, bool]
    ) -> BenchRow:
        return BenchRow(
            name,
            200,
            BestKnown(name, 10, bks_km),
            BenchResult(name, [], ours[1], ours[0], 1.0, ours[2]),
            BenchResult(name, [], peer[1], peer[0], 1.0, peer[2], solver="pyvrp"),
        )

    cfg = BenchConfig("homberger", 1.0, Objective.HIERARCHICAL)
    met = BenchReport(
        cfg,
        [
            row("A", 100.0, (10, 101.0, True), (10, 100.5, True)),
            row("B", 100.0, (9, 99.0, True), (10, 100.0, True)),
        ],
    )
    v = met.versus_peer()
    assert (
        v["target_met"] and v["more_vehicles"] == [] and v["fewer_vehicles"] == 1 and v["equal_vehicles"] == 1
    )
    assert v["mean_gap_pct_equal_fleet"] == pytest.approx(1.0) and v[
        "peer_mean_gap_pct_equal_fleet"
    ] == pytest.approx(0.5)
    fleet = BenchReport(cfg, [row("A", 100.0, (11, 99.0, True), (10, 100.0, True))])
    assert fleet.versus_peer()["more_vehicles"] == ["A"] and not fleet.versus_peer()["target_met"]
    infeasible = BenchReport(cfg, [row("A", 100.0, (10, 100.0, False), (10, 100.0, True))])
    assert (
        infeasible.versus_peer()["feasible_only_for_peer"] == ["A"]
        and not infeasible.versus_peer()["target_met"]
    )
    gap = BenchReport(cfg, [row("A", 100.0, (10, 101.6, True), (10, 101.0, True))])
    assert (
        gap.versus_peer()["more_vehicles"] == [] and not gap.versus_peer()["target_met"]
    )  # +1.6 > +1.0 + 0.5
    assert (
        BenchReport(cfg, [BenchRow("A", 200, None, BenchResult("A", [], 1.0, 1, 1.0, True))]).versus_peer()
        == {}
    )


def test_routing_compare_recomputes_the_head_to_head_from_stored_runs(tmp_path: Path) -> None:
    """Two stored runs (as a 200 and a 1,000 run would be) make one comparison; the CLI names the instance
    where we used more vehicles; mixed suites and an instance stored twice are refused with the file named."""
    from routing.io.results import BenchResult, write_results

    bks = read_bks(bench_dir() / "homberger" / "bks.csv")
    meta = {"suite": "homberger", "time_limit": 60, "objective": "hierarchical"}

    def res(name: str, extra_vehicles: int, solver: str) -> BenchResult:
        b = bks[name]
        return BenchResult(name, [], b.distance * 1.01, b.vehicles + extra_vehicles, 60.0, True, solver)

    first, second = tmp_path / "h200.json", tmp_path / "h1000.json"
    write_results(first, [res("C1_2_1", 0, "evfleet")], [res("C1_2_1", 0, "pyvrp")], meta)
    write_results(second, [res("RC2_10_1", 1, "evfleet")], [res("RC2_10_1", 0, "pyvrp")], meta)
    out = runner.invoke(
        app, ["bench", "routing-compare", str(first), str(second), "--bench-dir", str(bench_dir())]
    )
    assert out.exit_code == 0, out.output
    assert "more_vehicles=['RC2_10_1']" in out.output and "target_met=False" in out.output
    assert "equal_vehicles=1" in out.output
    solomon = tmp_path / "solomon.json"
    write_results(solomon, [res("C1_2_1", 0, "evfleet")], None, {**meta, "suite": "solomon"})
    bad = runner.invoke(
        app, ["bench", "routing-compare", str(first), str(solomon), "--bench-dir", str(bench_dir())]
    )
    assert bad.exit_code == 2 and "one suite and objective at a time" in bad.output
    twice = runner.invoke(
        app, ["bench", "routing-compare", str(first), str(first), "--bench-dir", str(bench_dir())]
    )
    assert twice.exit_code == 2 and "C1_2_1 is also in" in twice.output
    deep = tmp_path / ("a-long-folder-name-" * 6)  # longer than a terminal line: the path must not be broken
    deep.mkdir()
    junk = deep / "junk.json"
    junk.write_text("{}")
    nometa = runner.invoke(app, ["bench", "routing-compare", str(junk), "--bench-dir", str(bench_dir())])
    assert nometa.exit_code == 2 and str(junk) in nometa.output
