"""Fleet & leases in pages (issue 24: 80,000 trucks and leases): the SQL page equals the same slice of the whole
table filtered in Python, totals and rent come from SQL, and the page's search and page number work (AppTest)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from fleet.services import fleet_leases as svc
from fleet.services import fleet_tables
from fleet.services.frames import filter_frame
from tests.app.conftest import AppRunner, url_of

TODAY = dt.date(2026, 11, 26)


@pytest.mark.parametrize("lessee", [None, "PCX"])
def test_vehicle_pages_are_slices_of_the_filtered_table(demo_engine: Engine, lessee: str | None) -> None:
    with Session(demo_engine) as s:
        whole = svc.vehicles_frame(s, lessee)
        cases = [
            ({}, {}, ""),
            ({"depots": ["SZ-NS"]}, {"depot": ["SZ-NS"]}, ""),
            ({"statuses": ["leased"]}, {"status": ["leased"]}, ""),
            ({"text": "bd1"}, {}, "bd1"),
        ]
        for kwargs, picks, text in cases:
            expected = filter_frame(whole, picks, text, ("plate", "vin")).reset_index(drop=True)
            pages = []
            first = fleet_tables.vehicles_page(s, lessee, page=1, page_size=7, **kwargs)
            assert first.total == len(whole) and first.matched == len(expected), kwargs
            for n in range(1, first.pages + 1):
                pages.append(fleet_tables.vehicles_page(s, lessee, page=n, page_size=7, **kwargs).frame)
            got = pd.concat(pages, ignore_index=True)
            assert got.astype(str).values.tolist() == expected.astype(str).values.tolist(), kwargs
        last = fleet_tables.vehicles_page(s, lessee, page=999, page_size=7)
        assert last.page == last.pages == -(-len(whole) // 7)  # clamped to the last page


@pytest.mark.parametrize("lessee", [None, "FRESH"])
def test_lease_pages_totals_and_rent_match_the_whole_table(demo_engine: Engine, lessee: str | None) -> None:
    with Session(demo_engine) as s:
        whole = svc.leases_frame(s, lessee, TODAY)
        for kwargs, picks, text in [
            ({}, {}, ""),
            ({"active_only": True}, {"active": [True]}, ""),
            ({"text": "l-"}, {}, "l-"),
            ({"depots": ["SZ-NS"]}, {"depot": ["SZ-NS"]}, ""),
        ]:
            expected = filter_frame(whole, picks, text, ("code", "plate")).reset_index(drop=True)
            first = fleet_tables.leases_page(s, lessee, TODAY, page=1, page_size=9, **kwargs)
            assert (first.total, first.matched) == (len(whole), len(expected)), kwargs
            assert first.rent_cny == pytest.approx(expected["monthly_rent_cny"].sum())
            frames = [
                fleet_tables.leases_page(s, lessee, TODAY, page=n, page_size=9, **kwargs).frame
                for n in range(1, first.pages + 1)
            ]
            got = pd.concat(frames, ignore_index=True)
            assert got.astype(str).values.tolist() == expected.astype(str).values.tolist(), kwargs


def test_the_page_shows_one_page_and_finds_a_plate(
    run_app: AppRunner, demo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fleet_tables, "PAGE_SIZE", 20)
    at = run_app(url_of(demo_engine), "fleet")
    assert not at.exception, [e.value for e in at.exception]
    with Session(demo_engine) as s:
        whole = svc.vehicles_frame(s, None)
    first = at.dataframe[0].value
    assert first["plate"].tolist() == whole["plate"].tolist()[:20]
    assert f"{len(whole)} of {len(whole)} vehicles" in [c.value for c in at.caption]
    at.number_input(key="veh_page").set_value(3).run()
    assert at.dataframe[0].value["plate"].tolist() == whole["plate"].tolist()[40:60]
    plate = whole["plate"].iloc[55]
    at.text_input(key="veh_f_text").input(plate).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.dataframe[0].value["plate"].tolist() == [plate]  # page 3 of 1: back to the only page
    assert f"1 of {len(whole)} vehicles" in [c.value for c in at.caption]
    assert at.selectbox(key="editv_plate").options == [plate]


def test_lease_picker_searches_codes_in_sql(run_app: AppRunner, demo_engine: Engine) -> None:
    from fleet.services.lease_economics import lease_codes, lease_count

    with Session(demo_engine) as s:
        every = lease_codes(s, None)
        assert lease_count(s, None) == len(every) and lease_codes(s, None, limit=5) == every[:5]
        assert lease_codes(s, None, "ba-00") == [c for c in every if "ba-00" in c.lower()]
        assert lease_codes(s, None, "%") == [] and lease_count(s, None, "_") == 0  # wildcards are literal
    at = run_app(url_of(demo_engine), "economics")
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="fin_lease").options == every  # 80 leases: all listed (at most 200)
    at.text_input(key="fin_lease_q").input("LH-01").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="fin_lease").options == [c for c in every if "LH-01" in c]
    at.text_input(key="fin_lease_q").input("nothing-like-this").run()
    assert "No lease code contains 'nothing-like-this'." in [i.value for i in at.info]
