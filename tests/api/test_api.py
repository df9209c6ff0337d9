"""The REST API through FastAPI's TestClient: credentials, imports with the file importer's rules,
idempotency, pagination, size limits, and tenant isolation on every endpoint (404, same as missing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from fleet.api.app import create_app
from fleet.models import ApiKey, ChargingPlan, Depot, JobRun, Lessee, Order, RoutePlan, RouteStop, Vehicle
from tests.api.conftest import Api

ROOT = Path(__file__).resolve().parents[2]


def _order(ref: str, depot: str = "SZ-BA", **over: object) -> dict[str, object]:
    row: dict[str, object] = {
        "external_ref": ref,
        "depot_code": depot,
        "service_date": "2026-12-20",
        "address": "深圳市宝安区",
        "latitude": 22.65,
        "longitude": 113.85,
        "demand_kg": 120.5,
        "window_start": "09:00",
        "window_end": "17:00",
        "service_minutes": 10,
    }
    row.update(over)
    return row


def _ids(api: Api, model: type, lessee: str) -> tuple[list[int], list[int]]:
    """Ids of `model` rows owned by `lessee` and by other lessees."""
    with Session(api.engine) as s:
        owner = s.exec(select(Lessee.id).where(Lessee.code == lessee)).one()
        rows = s.exec(select(model)).all()
        return [r.id for r in rows if r.lessee_id == owner], [r.id for r in rows if r.lessee_id != owner]


def test_keys_are_required_and_stored_hashed(api: Api) -> None:
    assert api.client.get("/v1/orders").status_code == 401
    assert api.client.get("/v1/orders", headers={"X-API-Key": "evk_nope"}).status_code == 401
    assert (
        api.client.get("/v1/orders", headers={"Authorization": f"Bearer {api.keys['PCX']}"}).status_code
        == 200
    )
    with Session(api.engine) as s:
        stored = {k.key_sha256 for k in s.exec(select(ApiKey)).all()}
    assert not set(api.keys.values()) & stored and len(stored) == 3


def test_orders_in_all_or_nothing_with_the_row_and_field_named(api: Api) -> None:
    bad = {"rows": [_order("API-1"), _order("API-2", latitude="north"), _order("API-3", window_end="08:00")]}
    r = api.client.post("/v1/orders", json=bad, headers=api.h("PCX"))
    assert r.status_code == 422
    errors = {(e["row"], e["field"]) for e in r.json()["errors"]}
    assert errors == {(1, "latitude"), (2, "window_end")}
    with Session(api.engine) as s:
        assert s.exec(select(func.count()).where(Order.external_ref.like("API-%"))).one() == 0  # type: ignore[attr-defined]
    ok = {"rows": [_order("API-1"), _order("API-2")]}
    r = api.client.post("/v1/orders", json=ok, headers=api.h("PCX"))
    assert r.status_code == 201 and r.json()["inserted"] == 2
    again = api.client.post("/v1/orders", json=ok, headers=api.h("PCX"))  # same content: the file rule
    assert again.status_code == 200 and again.json()["inserted"] == 0 and again.json()["duplicate_of_batch"]


def test_unknown_fields_and_wrong_shapes_are_refused(api: Api) -> None:
    r = api.client.post(
        "/v1/orders", json={"rows": [{**_order("X-1"), "colour": "red"}]}, headers=api.h("PCX")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["row"] == 0
    assert api.client.post("/v1/orders", json={"rows": []}, headers=api.h("PCX")).status_code == 422
    assert api.client.post("/v1/orders", content=b"{", headers=api.h("PCX")).status_code == 422
    lessor = api.client.post("/v1/orders", json={"rows": [_order("X-2")]}, headers=api.h("lessor"))
    assert lessor.status_code == 422 and "needs a lessee" in lessor.json()["errors"][0]["reason"]
    named = api.client.post(
        "/v1/orders", json={"rows": [_order("X-2")], "lessee_code": "PCX"}, headers=api.h("lessor")
    )
    assert named.status_code == 201 and named.json()["inserted"] == 1
    other = api.client.post(
        "/v1/orders", json={"rows": [_order("X-3")], "lessee_code": "PCX"}, headers=api.h("FRESH")
    )
    assert other.status_code == 422  # a lessee key cannot name another lessee


def test_idempotency_key_makes_a_retry_harmless(api: Api) -> None:
    body = {"rows": [_order("IDEM-1"), _order("IDEM-2")]}
    h = api.h("PCX", **{"Idempotency-Key": "order-batch-77"})
    first = api.client.post("/v1/orders", json=body, headers=h)
    retry = api.client.post("/v1/orders", json=body, headers=h)
    assert first.status_code == retry.status_code == 201 and first.json() == retry.json()
    assert retry.headers.get("Idempotent-Replayed") == "true"
    other = api.client.post("/v1/orders", json={"rows": [_order("IDEM-3")]}, headers=h)
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]
    # keys are per credential: FRESH may use the same key string for its own request
    fresh = api.client.post(
        "/v1/orders",
        json={"rows": [_order("IDEM-F", depot="SZ-NS", latitude=22.56, longitude=113.95)]},
        headers=api.h("FRESH", **{"Idempotency-Key": "order-batch-77"}),
    )
    assert fresh.status_code == 201, fresh.json()


def test_a_lessee_cannot_write_into_another_lessees_depot_or_trucks(api: Api) -> None:
    r = api.client.post("/v1/orders", json={"rows": [_order("CROSS-1", depot="SZ-NS")]}, headers=api.h("PCX"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "depot_code"
    with Session(api.engine) as s:
        fresh_plate = s.exec(
            select(Vehicle.plate).join(Lessee, Lessee.id == Vehicle.lessee_id).where(Lessee.code == "FRESH")
        ).first()
    trip = {"rows": [{"plate": fresh_plate, "day": "2026-11-30", "km": 100}]}
    r = api.client.post("/v1/trips", json=trip, headers=api.h("PCX"))
    assert r.status_code == 422 and r.json()["errors"][0] == {
        "row": 0,
        "field": "plate",
        "value": fresh_plate,
        "reason": "unknown vehicle",
    }
    session = {
        "rows": [
            {
                "plate": fresh_plate,
                "started_at": "2026-11-30T01:00+08:00",
                "ended_at": "2026-11-30T02:00+08:00",
                "kwh": 50,
            }
        ]
    }
    r = api.client.post("/v1/charging-sessions", json=session, headers=api.h("PCX"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "plate"
    own = api.client.post(
        "/v1/trips",
        json={"rows": [{"plate": fresh_plate, "day": "2026-11-30", "km": 100, "kwh_charger": 80}]},
        headers=api.h("FRESH"),
    )
    assert own.status_code == 201 and own.json()["inserted"] == 1


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/v1/orders/{}", Order),
        ("/v1/plans/routes/{}", RoutePlan),
        ("/v1/plans/charging/{}", ChargingPlan),
        ("/v1/jobs/{}", JobRun),
    ],
)
def test_another_lessees_row_is_404_exactly_like_a_missing_one(api: Api, path: str, model: type) -> None:
    mine, others = _ids(api, model, "PCX")
    assert mine and others
    assert api.client.get(path.format(mine[0]), headers=api.h("PCX")).status_code == 200
    foreign = api.client.get(path.format(others[0]), headers=api.h("PCX"))
    missing = api.client.get(path.format(2_000_000_000), headers=api.h("PCX"))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["detail"].split()[0] == missing.json()["detail"].split()[0]
    assert (
        api.client.get(path.format(others[0]), headers=api.h("lessor")).status_code == 200
    )  # the lessor sees all


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/v1/orders", Order),
        ("/v1/plans?kind=route&current_only=false", RoutePlan),
        ("/v1/plans?kind=charging&current_only=false", ChargingPlan),
        ("/v1/jobs", JobRun),
    ],
)
def test_lists_hold_only_the_keys_rows_and_page_through_all_of_them(api: Api, path: str, model: type) -> None:
    mine, _ = _ids(api, model, "PCX")
    seen, cursor = [], None
    for _ in range(1000):
        sep = "&" if "?" in path else "?"
        url = f"{path}{sep}limit={500 if model is Order else 2}" + (
            f"&cursor={cursor}" if cursor is not None else ""
        )
        page = api.client.get(url, headers=api.h("PCX")).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(mine)


def test_route_plan_has_route_sheets(api: Api) -> None:
    mine, _ = _ids(api, RoutePlan, "PCX")
    plan = api.client.get(f"/v1/plans/routes/{mine[0]}", headers=api.h("PCX")).json()
    assert plan["routes"] and plan["routes"][0]["stops"][0]["kind"] == "depot" and plan["routes"][0]["plate"]


def test_orders_carry_customer_name_phone_and_notes(api: Api) -> None:
    row = _order("CUST-1", customer_name="黄记五金店", customer_phone="138 0013 8000", notes="到达前电话联系")
    r = api.client.post("/v1/orders", json={"rows": [row, _order("CUST-2")]}, headers=api.h("PCX"))
    assert r.status_code == 201, r.json()
    items = api.client.get("/v1/orders?service_date=2026-12-20&limit=500", headers=api.h("PCX")).json()[
        "items"
    ]
    got = {o["external_ref"]: (o["customer_name"], o["customer_phone"], o["notes"]) for o in items}
    assert got["CUST-1"] == ("黄记五金店", "138 0013 8000", "到达前电话联系")
    assert got["CUST-2"] == (None, None, None)
    mine, _ = _ids(api, RoutePlan, "PCX")
    with Session(api.engine) as s:  # put CUST-1 on a route sheet: its stop names the customer
        order = s.exec(select(Order).where(Order.external_ref == "CUST-1")).one()
        depot_stop = s.exec(select(RouteStop).where(RouteStop.plan_id == mine[0])).first()
        s.add(
            RouteStop(
                lessor_id=order.lessor_id,
                lessee_id=order.lessee_id,
                plan_id=mine[0],
                vehicle_id=depot_stop.vehicle_id,
                sequence=1,
                kind="job",
                order_id=order.id,
                latitude=order.latitude,
                longitude=order.longitude,
            )
        )
        s.commit()
    plan = api.client.get(f"/v1/plans/routes/{mine[0]}", headers=api.h("PCX")).json()
    stop = next(st for r in plan["routes"] for st in r["stops"] if st["order_id"])
    assert (stop["external_ref"], stop["customer_name"], stop["customer_phone"], stop["notes"]) == (
        "CUST-1",
        "黄记五金店",
        "138 0013 8000",
        "到达前电话联系",
    )
    bad = api.client.post(
        "/v1/orders", json={"rows": [_order("CUST-3", customer_phone="=1+2")]}, headers=api.h("PCX")
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "customer_phone"


def test_emissions_out_for_the_keys_party_only(api: Api) -> None:
    r = api.client.get("/v1/emissions?period=2026-11", headers=api.h("PCX"))
    assert r.status_code == 200 and r.json()["party"] == "PCX" and r.json()["ex_post"]["vehicle_days"] > 0
    assert (
        api.client.get("/v1/emissions?period=2026-11&lessee_code=FRESH", headers=api.h("PCX")).status_code
        == 404
    )
    assert (
        api.client.get("/v1/emissions?period=2026-11&lessee_code=FRESH", headers=api.h("lessor")).json()[
            "party"
        ]
        == "FRESH"
    )
    assert api.client.get("/v1/emissions?period=2026-13", headers=api.h("PCX")).status_code == 422
    assert (
        api.client.get("/v1/emissions?period=2026-11&profile=nope", headers=api.h("PCX")).status_code == 422
    )


def test_request_size_is_limited(api: Api) -> None:
    big = {"rows": [_order(f"BIG-{i}", address="x" * 250) for i in range(1200)]}
    r = api.client.post("/v1/orders", json=big, headers=api.h("PCX"))
    assert r.status_code == 413


def test_openapi_schema_is_published_and_matches_the_committed_copy(api: Api) -> None:
    served = api.client.get("/openapi.json").json()
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert served == committed, "regenerate: evfleet api openapi > docs/openapi.json"
    assert {"/v1/orders", "/v1/plans/routes/{plan_id}", "/v1/emissions", "/v1/jobs/{job_id}"} <= set(
        served["paths"]
    )


def test_depots_are_not_exposed_by_the_app_factory_twice(api: Api) -> None:
    # two apps on one engine share nothing but the database
    other = create_app(api.engine)
    assert other is not api.client.app and Depot.__tablename__ == "depot"


@pytest.mark.parametrize(
    "url",
    [
        "/v1/orders?limit=0",
        "/v1/orders?limit=501",
        "/v1/orders?cursor=-1",
        "/v1/orders?service_date=2026-13-40",
        "/v1/orders?service_date=yesterday",
        "/v1/orders/0",
        "/v1/orders/abc",
        "/v1/plans?kind=nightly",
        "/v1/plans/routes/-5",
        "/v1/plans/charging/abc",
        "/v1/jobs?limit=abc",
        "/v1/jobs/0",
        "/v1/emissions",
        "/v1/emissions?period=November",
    ],
)
def test_bad_query_and_path_parameters_are_422_with_the_field_named(api: Api, url: str) -> None:
    r = api.client.get(url, headers=api.h("PCX"))
    assert r.status_code == 422, r.text
    assert r.json()["errors"] and all(e["field"] for e in r.json()["errors"])


@pytest.mark.parametrize("path", ["/v1/orders", "/v1/trips", "/v1/charging-sessions"])
def test_writes_refuse_bodies_that_are_not_row_lists(api: Api, path: str) -> None:
    for body in ({}, {"rows": "x"}, {"rows": [1]}, {"rows": [{}]}, []):
        r = api.client.post(path, json=body, headers=api.h("PCX"))
        assert r.status_code == 422, (body, r.text)
