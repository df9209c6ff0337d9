"""One demo database with plans and jobs for every lessee, and API keys for two lessees and the lessor."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from fleet.api import create_app, issue_key
from fleet.db import make_engine, session_scope
from fleet.migrate import upgrade
from tests.test_scope import _fill_plans_and_jobs


@dataclass
class Api:
    engine: Engine
    client: TestClient
    keys: dict[str, str]

    def h(self, who: str, **extra: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[who], **extra}


@pytest.fixture(scope="module")
def api(demo_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Api:
    dst = tmp_path_factory.mktemp("api") / "api.db"
    with sqlite3.connect(demo_engine.url.database) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    url = f"sqlite:///{dst}"
    upgrade(url)  # the session's demo database is migrated already; this is a no-op unless it lags
    engine = make_engine(url)
    _fill_plans_and_jobs(engine)
    with session_scope(engine) as s:
        keys = {
            "PCX": issue_key(s, "pcx tms", lessee_code="PCX"),
            "FRESH": issue_key(s, "fresh wms", lessee_code="FRESH"),
            "lessor": issue_key(s, "lessor back office"),
        }
    return Api(engine, TestClient(create_app(engine, max_body_bytes=256 * 1024)), keys)


@pytest.fixture
def api_dir() -> Path:
    return Path(__file__).resolve().parents[2]
