"""The planner's cockpit driven in a real browser, in one language (issue 21 Acceptance), shared by the English
test (tests/app/test_browser.py) and the Chinese one (tests/app/test_browser_i18n.py), each in its module's app
session: an edit that breaks a window is refused with the violation named and nothing is stored; after a truck
breaks down, the minimal-change re-plan keeps a locked route unchanged and moves at most that truck's orders plus
a few; the re-plan is published; a restore brings back the earlier version. Labels are the catalogue's
translations of the page's msgids, so the test reads the page as a planner in that language does.
"""

from __future__ import annotations

from sqlmodel import Session, select

from fleet.i18n import _, use_locale
from fleet.models import Depot, PlanStatus, RoutePlan, RouteStop, Vehicle
from tests.app.conftest import ARTIFACTS, PLANNED_DEPOT, SERVICE_DATE

FEW = 2  # "plus a few": orders of trucks still in service that may change truck (docs/replan.md measures ≤ 4)
TABS = 8  # the Route planner's tabs (a second tab bar while a rerun draws means the run is not over)


def tr(locale: str, msgid: str) -> str:
    with use_locale(locale):
        return _(msgid)


def published(engine, depot_id: int) -> RoutePlan:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        plan = s.exec(
            select(RoutePlan).where(RoutePlan.depot_id == depot_id, RoutePlan.status == PlanStatus.PUBLISHED)
        ).one()
        s.expunge(plan)
        return plan


def orders_by_truck(engine, plan_id: int) -> dict[str, list[int | None]]:  # type: ignore[no-untyped-def]
    """{plate: [order id, ...] in driving order} of a stored version's stops."""
    with Session(engine) as s:
        rows = s.exec(
            select(RouteStop.order_id, Vehicle.plate)
            .join(Vehicle, Vehicle.id == RouteStop.vehicle_id)
            .where(RouteStop.plan_id == plan_id, RouteStop.kind == "job")
            .order_by(RouteStop.vehicle_id, RouteStop.sequence)
        ).all()
    out: dict[str, list[int | None]] = {}
    for order_id, plate in rows:
        out.setdefault(plate, []).append(order_id)
    return out


def _run_over(page) -> None:  # type: ignore[no-untyped-def]
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden")
    page.wait_for_timeout(600)
    page.wait_for_function(f"document.querySelectorAll('[data-testid=\"stTab\"]').length <= {TABS}")


def _tab(page, name: str) -> None:  # type: ignore[no-untyped-def]
    _run_over(page)
    page.get_by_role("tab", name=name, exact=True).click()


def _pick_exact(page, label: str, option: str) -> None:  # type: ignore[no-untyped-def]
    _run_over(page)
    box = page.locator('[data-testid="stSelectbox"]', has_text=label).first
    box.locator('[role="combobox"], input').first.click()
    page.keyboard.type(option)  # filters the list (a list opened low on the page may be scrolled out of view)
    page.get_by_role("option", name=option, exact=True).first.click()


def _pick_version(page, engine, depot_id: int, label: str, version: int) -> None:  # type: ignore[no-untyped-def]
    """Choose `version` among the versions that are not published (a one-option select box is pre-selected and
    lists no separate option to click)."""
    with Session(engine) as s:
        others = s.exec(
            select(RoutePlan.version).where(
                RoutePlan.depot_id == depot_id, RoutePlan.status != PlanStatus.PUBLISHED
            )
        ).all()
    if len(others) > 1:
        _pick_exact(page, label, str(version))
    else:
        _run_over(page)
        page.locator('[data-testid="stSelectbox"]', has_text=label).first.wait_for()


def _multi(page, label: str, options: list[str]) -> None:  # type: ignore[no-untyped-def]
    box = page.locator('[data-testid="stMultiSelect"]', has_text=label).first
    for option in options:
        _run_over(page)
        box.locator('[role="combobox"], input').first.click()
        page.get_by_role("option", name=option, exact=True).first.click()
        page.keyboard.press("Escape")


def cockpit_flows(page, engine, locale: str) -> None:  # type: ignore[no-untyped-def]
    """On the Route planner of PLANNED_DEPOT / SERVICE_DATE (already shown, in `locale`)."""
    from routing.solution import RoutingSolution
    from tests.app.test_plan_versions import window_breaking_move

    t = lambda msgid: tr(locale, msgid)  # noqa: E731
    with Session(engine) as s:
        depot = s.exec(select(Depot).where(Depot.code == PLANNED_DEPOT)).one()
        stored = len(s.exec(select(RoutePlan)).all())
    before = published(engine, depot.id)
    page.get_by_text(t("Published plan: version {v}").format(v=before.version), exact=False).first.wait_for()

    # 1. An edit that breaks a time window: refused, the violation named (truck, order), nothing stored.
    edit, job = window_breaking_move(before)
    on_truck = next(
        r for r in RoutingSolution.from_dict(dict(before.solution)).routes if r.vehicle_type == edit["truck"]
    )
    _tab(page, t("Edit routes"))
    _pick_exact(page, t("Edit on truck"), edit["truck"])
    _pick_exact(page, t("Job to edit"), job)
    position = page.get_by_label(t("Position on the truck (1 = first stop)"))
    position.fill(str(len(on_truck.stops) + 1))
    position.press("Enter")
    _run_over(page)
    page.get_by_role("button", name=t("Apply edit")).click()
    refused = t(
        "Refused by the routing checker: {n} violation(s). This plan cannot be saved: discard the edits and try "
        "another."
    )
    page.get_by_text(refused.split("{n}")[0], exact=False).first.wait_for()
    # The rule named in the page's language: "... after window end ... at order X" / "时间窗：...（订单 X）".
    rule = "after window end" if locale == "en" else t("time window") + "："
    named = page.get_by_text(rule, exact=False).filter(has_text=t(" at order {ref}").format(ref=job).strip())
    named.first.wait_for()
    assert edit["truck"] in named.first.inner_text()
    assert page.get_by_role("button", name=t("Save as a draft version")).count() == 0
    page.screenshot(path=str(ARTIFACTS / f"app-route-edit-refused-{locale}.png"), full_page=True)
    with Session(engine) as s:
        assert len(s.exec(select(RoutePlan)).all()) == stored  # nothing stored
    page.get_by_role("button", name=t("Discard edits")).click()

    # 2. A truck breaks down; another route is locked. The re-plan (a draft) keeps the locked route as it was
    # and moves at most the broken truck's orders plus a few.
    routes = orders_by_truck(engine, before.id)
    by_size = sorted(routes, key=lambda p: (-len(routes[p]), p))
    broken, locked = by_size[0], by_size[1]
    _tab(page, t("Re-plan"))
    _multi(page, t("Unavailable trucks (breakdown)"), [broken])
    _multi(page, t("Lock routes (kept whole, even on a spare truck)"), [locked])
    slider = page.locator('[data-testid="stSlider"]', has_text=t("Re-plan time limit [s]"))
    slider.locator('input[type="range"]').focus()
    slider.locator('input[type="range"]').press("Home")  # 1 s, the minimum
    reason = page.get_by_label(t("Reason for the re-plan (required)"))
    reason.fill(f"{broken} broke down")
    reason.press("Enter")
    _run_over(page)
    page.get_by_role("button", name=t("Re-plan"), exact=True).click()
    draft_v = stored + 1
    saved = t(
        "Re-planned draft version {v}: {moved} order(s) changed truck ({forced} from unavailable trucks, {other} "
        "others); a free re-solve would move {free} ({relabelled} after swapping identical trucks)."
    )
    # the success message after the page's rerun (the status box's own label goes with the rerun)
    page.get_by_text(saved.split("{moved}")[0].format(v=draft_v), exact=False).first.wait_for(timeout=90_000)
    with Session(engine) as s:
        draft = s.exec(
            select(RoutePlan).where(RoutePlan.depot_id == depot.id, RoutePlan.version == draft_v)
        ).one()
    assert (draft.status, draft.origin, draft.based_on_version) == (
        PlanStatus.DRAFT,
        "replan",
        before.version,
    )
    assert published(engine, depot.id).version == before.version  # a re-plan never publishes by itself
    after = orders_by_truck(engine, draft.id)
    assert broken not in after and after[locked] == routes[locked]  # the locked route, stop for stop
    home = {o: p for p, orders in routes.items() for o in orders}
    moved = [o for p, orders in after.items() for o in orders if home.get(o) != p]
    assert len(moved) <= len(routes[broken]) + FEW, (broken, len(routes[broken]), moved)
    _tab(page, t("Re-plan"))
    page.get_by_text(t("Moves report of the last re-plan (version {v})").format(v=draft_v)).first.wait_for()
    page.screenshot(path=str(ARTIFACTS / f"app-route-replan-{locale}.png"), full_page=True)

    # 3. Publish the re-plan, then restore the earlier version: it comes back as a new published version.
    _tab(page, t("Versions"))
    _pick_version(page, engine, depot.id, t("Version to publish"), draft_v)
    _tab(page, t("Versions"))  # the pick's rerun may show the first tab again
    page.get_by_role("button", name=t("Publish"), exact=True).click()
    page.get_by_text(t("Published plan: version {v}").format(v=draft_v), exact=False).first.wait_for(
        timeout=60_000
    )
    assert published(engine, depot.id).version == draft_v
    _tab(page, t("Versions"))
    _pick_version(page, engine, depot.id, t("Version to restore"), before.version)
    _tab(page, t("Versions"))  # the pick's rerun may show the first tab again
    restore_reason = page.get_by_label(t("Reason for the restore"))
    restore_reason.fill("the truck is repaired")
    restore_reason.press("Enter")
    _tab(page, t("Versions"))  # the rerun may show the first tab again
    page.locator("button:not([disabled])", has_text=t("Restore as a new published version")).click()
    restored = draft_v + 1
    page.get_by_text(
        t("Restored version {old} as version {v} (published) for {depot} {day}.").format(
            old=before.version, v=restored, depot=PLANNED_DEPOT, day=SERVICE_DATE.isoformat()
        ),
        exact=False,
    ).first.wait_for(timeout=60_000)
    back = published(engine, depot.id)
    assert (back.version, back.origin, back.based_on_version) == (restored, "restore", before.version)
    assert back.solution == before.solution and back.reason == "the truck is repaired"
    page.get_by_text(t("Published plan: version {v}").format(v=restored), exact=False).first.wait_for()
