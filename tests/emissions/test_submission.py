"""The submission package: JSON, XLSX and PDF agree; re-runs are byte-identical; the manifest checks out."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fleet.emissions.calc import parse_period
from fleet.emissions.profiles import GLEC_WTW, TCSAE_235
from fleet.emissions.report import build_report
from fleet.factors import FactorRegistry
from fleet.submission.document import ProjectInfo, build_document, to_json_bytes
from fleet.submission.fields import FIELDS, get_path
from fleet.submission.package import verify_manifest, write_package
from fleet.submission.pdf import MAX_FLAG_ROWS, format_value
from fleet.submission.schema import json_schema, validate

from .conftest import reference_book, reference_days, reference_lease

pypdf = pytest.importorskip("pypdf")


def make_document(registry: FactorRegistry, profile=TCSAE_235) -> dict:
    metered = reference_days(2024)
    metered[5] = replace(metered[5], km=-3.0)  # one bad row, flagged
    planned = reference_days(2024)
    book = reference_book(reference_lease(other_registrations=("none known",)))
    report = build_report("lessee-a", parse_period("2024"), metered, planned, book, profile, registry)
    return build_document(report, book, ProjectInfo("Shenzhen e-truck lease, Lessee A"), registry)


@pytest.fixture(scope="module")
def package(tmp_path_factory, registry: FactorRegistry):
    out = tmp_path_factory.mktemp("package")
    files = write_package(
        make_document(registry), out, "lessee-a-2024", now=datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    )
    return files


def test_json_validates_against_its_schema(package) -> None:
    document = json.loads(package.json.read_text(encoding="utf-8"))
    assert validate(document) == []
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(document, json.loads(package.schema.read_text(encoding="utf-8")))
    broken = dict(document, project={k: v for k, v in document["project"].items() if k != "name"})
    assert "submission field 'project.name' missing at 'name'" in validate(broken)[0]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, json_schema())


def assert_package_agrees(json_path: Path, xlsx_path: Path, pdf_path: Path) -> dict:
    """Read all three files and check that every summary field, month, day and flag agrees; returns the JSON."""
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert validate(document) == []
    wb = load_workbook(xlsx_path, read_only=True)
    summary = {row[4]: row[2] for row in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    # whitespace normalised: the PDF wraps long cells over lines
    pdf_text = " ".join(" ".join(page.extract_text() for page in pypdf.PdfReader(pdf_path).pages).split())
    for field in FIELDS:
        value = get_path(document, field.path)
        assert summary[field.path] == (None if value == "" else value), field.path  # XLSX stores "" as empty
        if value not in (None, ""):
            assert " ".join(format_value(value, field.unit).split()) in pdf_text, field.path
    # the headline figure, independently formatted
    reduction = document["results"]["ex_post"]["reduction_tco2e"]
    assert f"{reduction:,.4f}" in pdf_text
    # monthly results: XLSX sheet == JSON, and each month's figure is printed in the PDF
    monthly_xlsx = list(wb["Monthly"].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in monthly_xlsx] == [m["month"] for m in document["results"]["monthly"]]
    for row, month in zip(monthly_xlsx, document["results"]["monthly"]):
        assert row[6] == month["ex_post_reduction_tco2e"]
        assert f"{month['ex_post_reduction_tco2e']:,.4f}" in pdf_text
    # monitoring data: one XLSX row per accepted vehicle-day, summing to the headline
    days = list(wb["Monitoring data"].iter_rows(min_row=2, values_only=True))
    assert len(days) == len(document["monitoring_data"]) == document["results"]["ex_post"]["vehicle_days"]
    assert sum(row[10] for row in days) == pytest.approx(reduction, abs=1e-4)
    # data quality: every flag appears in the XLSX, and (up to the PDF's table limit) in the PDF
    flags = document["data_quality"]["flags"]
    assert [r[3] for r in wb["Data quality"].iter_rows(min_row=2, values_only=True)] == [
        f["code"] for f in flags
    ]
    for flag in flags[:MAX_FLAG_ROWS]:
        assert flag["row_ref"] in pdf_text and flag["code"] in pdf_text
    # every cited factor is listed with its source in the workbook
    factor_rows = {r[0]: r[6] for r in wb["Factors"].iter_rows(min_row=2, values_only=True)}
    assert set(factor_rows) == {f["key"] for f in document["factors"]}
    assert all(factor_rows.values())
    for section in (
        "Project description",
        "Baseline",
        "Methodology",
        "Parameters",
        "Results",
        "Monitoring plan",
        "Data quality and data gaps",
    ):
        assert section in pdf_text
    return document


def test_json_xlsx_and_pdf_agree(package) -> None:
    document = assert_package_agrees(package.json, package.xlsx, package.pdf)
    (flag,) = document["data_quality"]["flags"]
    assert flag["code"] == "negative_km" and len(document["monitoring_data"]) == 199


def test_rerun_is_byte_identical_and_only_the_manifest_has_a_timestamp(tmp_path, registry, package) -> None:
    again = write_package(
        make_document(registry), tmp_path, "lessee-a-2024", now=datetime(2027, 1, 1, tzinfo=UTC)
    )
    for name in ("json", "schema", "xlsx", "pdf"):
        assert getattr(again, name).read_bytes() == getattr(package, name).read_bytes(), name
    first = json.loads(package.manifest.read_text())
    second = json.loads(again.manifest.read_text())
    assert first["files"] == second["files"] and first["generated_at"] != second["generated_at"]
    assert to_json_bytes(make_document(registry)) == package.json.read_bytes()


def test_manifest_checksums_detect_tampering(tmp_path, registry) -> None:
    files = write_package(make_document(registry), tmp_path, "x")
    assert verify_manifest(files.manifest) == []
    files.json.write_bytes(files.json.read_bytes().replace(b"4.9", b"9.9", 1))
    assert verify_manifest(files.manifest) == ["x.json"]


def test_headline_figures_follow_the_reference_case(package) -> None:
    document = json.loads(package.json.read_text(encoding="utf-8"))
    # 199 of the 200 reference days survive screening: 199/200 of the reference ER 4.9703 t
    assert document["results"]["ex_post"]["reduction_tco2e"] == pytest.approx(4.970269 * 199 / 200, abs=1e-5)
    assert document["results"]["ex_ante"]["reduction_tco2e"] == pytest.approx(4.970269, abs=1e-5)
    assert document["methodology"]["grid_factor"]["vintage"]["used_data_year"] == 2022
    # issue 19 item 3: the ICMA annual indicator is an annualised run rate with its monitored days beside it.
    # Monitoring starts on 2024-01-02 (first accepted record) and runs to 2024-12-31: 365 monitored days of 366.
    indicators = document["impact_indicators"]
    assert indicators["monitored_days"] == 365 and indicators["monitoring_start"] == "2024-01-02"
    assert indicators["ex_post_reduction_tco2e"] == document["results"]["ex_post"]["reduction_tco2e"]
    assert indicators["icma_annual_ghg_avoided_tco2e"] == pytest.approx(
        4.970269 * 199 / 200 * 366 / 365, abs=1e-5
    )
    assert indicators["full_year_expectation_tco2e"] == document["results"]["ex_ante"]["reduction_tco2e"]
    assert document["project"]["investment_cny"] == 200000.0


def test_glec_document_carries_ttw_and_intensity(registry) -> None:
    document = make_document(registry, GLEC_WTW)
    assert validate(document) == []
    assert document["results"]["ttw"]["project_ttw_tco2"] == 0.0
    assert document["results"]["ex_post"]["intensity_baseline_g_per_tkm"] == pytest.approx(195.05, abs=0.01)
