"""The API fuzzed against its own OpenAPI schema (schemathesis): no call, valid or not, gets a server error.

Runs on a small database (one lessor, one lessee with a depot and a truck) so that every operation is cheap;
the behaviour on the demo data is tested in test_api.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from sqlmodel import Session, SQLModel

from fleet.api import create_app, issue_key
from fleet.db import make_engine
from fleet.models import Depot, Lessee, Lessor, Vehicle, VehicleKind, VehicleModel


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, str]:
    engine = make_engine(f"sqlite:///{Path(tmp_path_factory.mktemp('fuzz')) / 'fuzz.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as s:
        lessor = Lessor(code="L", name="Lessor")
        s.add(lessor)
        s.flush()
        lessee = Lessee(lessor_id=lessor.id, code="E", name="Lessee")
        model = VehicleModel(code="EV", kind=VehicleKind.BEV, name="EV", payload_kg=1, price_fen=1)
        s.add_all([lessee, model])
        s.flush()
        depot = Depot(
            lessor_id=lessor.id,
            lessee_id=lessee.id,
            code="D",
            name="D",
            latitude=22.6,
            longitude=114.0,
            grid_import_limit_kw=500,
        )
        s.add(depot)
        s.flush()
        s.add(
            Vehicle(
                lessor_id=lessor.id,
                lessee_id=lessee.id,
                plate="粤B00001",
                vin="LFUZZ000000000001",
                model_id=model.id,
                depot_id=depot.id,
            )
        )
        key = issue_key(s, "fuzz", lessee_code="E")
        s.commit()
    return create_app(engine), key


@pytest.fixture(scope="module")
def api_schema(small):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_asgi("/openapi.json", small[0])


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_error_for_any_call(case, small) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(headers={"X-API-Key": small[1]}, checks=[not_a_server_error])
