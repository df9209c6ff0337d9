"""Plan versions and hand edits (fleet.planning.edits / drafts / publish, fleet.services.plan_versions) on the
planned demo depot-day: an edit breaking a window or the reserve is named and refused; a feasible edit becomes a
draft; compare, publish, restore; stale warnings after a truck goes to maintenance."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from fleet.i18n import use_locale
from fleet.models import PlanStatus, RoutePlan, Vehicle, VehicleStatus
from fleet.planning.diff import moved_jobs, placements
from fleet.planning.drafts import EditRejected
from fleet.planning.edits import EditError, apply, evaluate, move_job, unassign
from fleet.services import plan_versions as pv
from fleet.services import unit_of_work
from routing.io.json_io import problem_from_dict
from routing.solution import RoutingSolution
from tests.app.conftest import PLANNED_DEPOT, SERVICE_DATE, url_of

pytestmark = pytest.mark.slow


def _published(engine: Engine) -> RoutePlan:
    with Session(engine) as s:
        plan = s.exec(select(RoutePlan).where(RoutePlan.status == PlanStatus.PUBLISHED)).one()
        s.expunge(plan)
        return plan


def window_breaking_move(plan: RoutePlan) -> tuple[dict, str]:
    """A move that makes a job miss its window: the earliest-closing job put last on the longest route."""
    problem = problem_from_dict(dict(plan.problem))
    sol = RoutingSolution.from_dict(dict(plan.solution))
    longest = max((r for r in sol.routes if r.stops), key=lambda r: r.arrival)
    closing = {j.id: j.windows_sorted[-1].end for j in problem.jobs}
    job = min((j for j in closing if j not in longest.job_ids), key=closing.get)
    return {"op": "move", "job": job, "truck": longest.vehicle_type, "position": None}, job


def test_edits_are_rechecked_and_violations_named(planned_engine: Engine) -> None:
    plan = _published(planned_engine)
    problem = problem_from_dict(dict(plan.problem))
    sol = RoutingSolution.from_dict(dict(plan.solution))
    assert evaluate(problem, sol).feasible
    edit, job = window_breaking_move(plan)
    result = evaluate(problem, apply(problem, sol, edit))
    windows = [v for v in result.violations if v.constraint == "time_window"]
    assert windows and windows[0].where == job and windows[0].truck == edit["truck"]
    assert "after window end" in windows[0].message and f"at order {job}" in windows[0].message
    assert windows[0].message.startswith(f"{edit['truck']}, stop ")
    # The reserve: the same plan on trucks with a fifth of their battery breaks it on every electric route.
    small = replace(
        problem,
        vehicle_types=tuple(
            vt
            if vt.battery is None
            else replace(vt, battery=replace(vt.battery, capacity_kwh=vt.battery.capacity_kwh / 5))
            for vt in problem.vehicle_types
        ),
    )
    reserve = [v for v in evaluate(small, sol).violations if v.constraint == "reserve_soc"]
    assert reserve and "below the reserve" in reserve[0].message
    # The same violations in Chinese, through fleet.i18n: the rule is named (时间窗, 电量低于保留值), figures kept.
    with use_locale("zh_CN"):
        window_zh, reserve_zh = windows[0].text(), reserve[0].text()
    assert (
        window_zh.startswith(f"{edit['truck']}，第 {windows[0].stop} 站：时间窗：")
        and f"（订单 {job}）" in window_zh
    )
    clocks = re.findall(r"\d\d:\d\d", windows[0].message)
    assert len(clocks) == 2 and re.findall(r"\d\d:\d\d", window_zh) == clocks
    assert "电量低于保留值" in reserve_zh and "kWh" in reserve_zh and "below" not in reserve_zh
    assert windows[0].text() == windows[0].message  # English outside a zh-CN run
    # Unassigning is feasible: the job is reported unserved, the km fall, figures recomputed by the checker.
    served = next(r for r in sol.routes if r.stops).job_ids[0]
    out = evaluate(problem, unassign(problem, sol, served))
    assert out.feasible
    assert [u.detail for u in out.solution.unserved if u.job_id == served] == ["unassigned by the planner"]
    assert out.solution.total_distance_km < sol.total_distance_km
    with pytest.raises(EditError, match="not in this plan's fleet"):
        move_job(problem, sol, served, "no-such-truck")
    # Stops moved: the unassigned job only (its followers keep their order); a swap of two neighbours moves one.
    assert moved_jobs(placements(sol), placements(out.solution)) == [served]
    route = next(r for r in sol.routes if len(r.job_ids) >= 3)
    ids = list(route.stop_ids)
    swapped = apply(
        problem, sol, {"op": "reorder", "truck": route.vehicle_type, "stops": [ids[1], ids[0], *ids[2:]]}
    )
    assert len(moved_jobs(placements(sol), placements(swapped))) == 1


def test_versions_edit_publish_restore_and_stale(planned_copy: Engine) -> None:
    url = url_of(planned_copy)
    v1 = _published(planned_copy)
    edit, _job = window_breaking_move(v1)
    with pytest.raises(EditRejected, match="after window end") as refused:
        pv.save_edit(url, None, PLANNED_DEPOT, SERVICE_DATE, 1, [edit], "ann", "try")
    assert refused.value.violations
    with use_locale("zh_CN"), pytest.raises(EditRejected, match=r"^已拒绝：.*时间窗：") as refused_zh:
        pv.save_edit(url, None, PLANNED_DEPOT, SERVICE_DATE, 1, [edit], "ann", "try")
    assert all("after window end" not in v for v in refused_zh.value.violations)
    sol = RoutingSolution.from_dict(dict(v1.solution))
    first = next(r for r in sol.routes if len(r.job_ids) >= 2)
    with unit_of_work(url) as s:
        verdict = pv.preview_edits(
            s, None, PLANNED_DEPOT, SERVICE_DATE, 1, [{"op": "unassign", "job": first.job_ids[0]}]
        )
    assert verdict.feasible
    with pytest.raises(ValueError, match="reason is required"):
        pv.save_edit(
            url,
            None,
            PLANNED_DEPOT,
            SERVICE_DATE,
            1,
            [{"op": "unassign", "job": first.job_ids[0]}],
            "ann",
            " ",
        )
    saved = pv.save_edit(
        url,
        None,
        PLANNED_DEPOT,
        SERVICE_DATE,
        1,
        [{"op": "unassign", "job": first.job_ids[0]}],
        "ann",
        "customer closed",
    )
    assert saved["version"] == 2 and not saved["published"]
    with unit_of_work(url) as s:
        frame = pv.versions_frame(s, None, PLANNED_DEPOT, SERVICE_DATE)
        assert frame[["version", "status", "origin", "author", "reason"]].values.tolist() == [
            [2, "draft", "edit", "ann", "customer closed"],
            [1, "published", "nightly", "nightly", ""],
        ]
        cmp = pv.compare_versions(s, None, PLANNED_DEPOT, SERVICE_DATE, 1, 2)
        assert cmp.stops_moved >= 1 and cmp.totals.loc["unserved", "change"] == 1
        assert cmp.totals.loc["km", "v1"] == round(v1.total_km, 1)
        pv.publish(s, None, PLANNED_DEPOT, SERVICE_DATE, 2, "bob")
    assert _published(planned_copy).version == 2
    with unit_of_work(url) as s:
        assert pv.restore(s, None, PLANNED_DEPOT, SERVICE_DATE, 1, "bob", "the edit was wrong") == 3
    back = _published(planned_copy)
    assert (back.version, back.origin, back.based_on_version) == (3, "restore", 1)
    assert back.total_km == v1.total_km and back.solution == v1.solution
    with unit_of_work(url) as s:
        statuses = {
            int(r.version): r.status
            for r in pv.versions_frame(s, None, PLANNED_DEPOT, SERVICE_DATE).itertuples()
        }
        assert statuses == {1: "superseded", 2: "superseded", 3: "published"}
        assert pv.plan_warnings(s, None, PLANNED_DEPOT, SERVICE_DATE) == []
    # A truck of the published plan goes to maintenance: the plan warns, naming it, and cannot be re-published.
    truck = first.vehicle_type
    with Session(planned_copy) as s:
        v = s.exec(select(Vehicle).where(Vehicle.plate == truck)).one()
        v.status = VehicleStatus.MAINTENANCE
        s.add(v)
        s.commit()
    with unit_of_work(url) as s:
        warnings = pv.plan_warnings(s, None, PLANNED_DEPOT, SERVICE_DATE)
        kinds = [w.kind for w in warnings]
        assert kinds.count("vehicles") == 2, warnings  # the truck named, and the vehicles' change time
        assert f"truck {truck} is in maintenance" in warnings[0].message
        with pytest.raises(pv.PlanCheckFailed, match=truck):
            pv.publish(s, None, PLANNED_DEPOT, SERVICE_DATE, 1, "bob")
