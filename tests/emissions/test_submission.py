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
from fleet.submission.pdf import EMPTY, MAX_FLAG_ROWS, format_value
from fleet.submission.schema import json_schema, validate
from fleet.submission.xlsx import KV_SHEETS, TABLE_SHEETS

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
    assert_sections_agree(document, wb, pdf_text)
    return document


def _xlsx_value(value: object) -> object:
    """How a JSON value sits in a cell: lists joined, "" stored as empty."""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    return None if value == "" else value


def _in_pdf(text: object, pdf_text: str) -> bool:
    return " ".join(str(text).split()) in pdf_text


def assert_sections_agree(document: dict, wb, pdf_text: str) -> None:
    """Issue 19's sections: each XLSX cell equals the JSON at its path, and the PDF prints the same values."""
    # key/value sheets: every row names its JSON path; every scalar of the section is there, equal to the JSON
    for title, roots in KV_SHEETS:
        rows = {r[0]: r[1] for r in wb[title].iter_rows(min_row=2, values_only=True)}
        assert rows, title
        for path, value in rows.items():
            assert value == _xlsx_value(get_path(document, path)), (title, path)
        for root in roots:
            node = get_path(document, root)
            if isinstance(node, dict):
                scalars = [k for k, v in node.items() if not isinstance(v, (dict, list)) or not v]
                assert {f"{root}.{k}" for k in scalars} <= set(rows), (title, root)
    # table sheets: one row per item of the JSON list, every column equal
    for title, path in TABLE_SHEETS:
        try:
            items = get_path(document, path)
        except KeyError:
            items = []
        sheet = list(wb[title].iter_rows(values_only=True))
        if not items:
            assert sheet[1:] == [], title
            continue
        header, body = list(sheet[0]), sheet[1:]
        assert header == list(dict.fromkeys(k for i in items for k in i)), title
        assert [list(r) for r in body] == [[_xlsx_value(i.get(k)) for k in header] for i in items], title

    # identity: present in both, empty until filled
    for label, value in (
        ("Lessee USCC", document["parties"]["lessee"]["registration_code"]),
        ("Lessor USCC", document["parties"]["lessor"]["registration_code"]),
        ("Signatory", document["identity"]["signatory"]["name"]),
        ("Third-party verifier", document["identity"]["verifier"]["name"]),
    ):
        assert _in_pdf(f"{label} {value or EMPTY}", pdf_text), label
    # requirements and conformance
    for r in document["methodology"]["requirements"]:
        for key in ("requirement", "status", "evidence"):
            assert _in_pdf(r[key], pdf_text), (key, r[key])
    # baseline scenario, regulatory context, replaced truck per lease with its flags
    baseline = document["baseline"]
    for text in (baseline["scenario"], baseline["regulatory_context"], baseline["flag_summary"]):
        assert _in_pdf(text, pdf_text)
    for t in baseline["replaced_trucks"]:
        assert _in_pdf(t["replaced_truck_flags"] or "none", pdf_text)
    # uncertainty: drivers with grade and range, Monte Carlo with its seed
    unc = document["uncertainty"]
    if "withheld" in unc:
        assert _in_pdf(unc["withheld"], pdf_text)
    else:
        for d in unc["drivers"]:
            for text in (d["driver"], d["range"], d["grade"]):
                assert _in_pdf(text, pdf_text), text
            assert _in_pdf(
                f"{format_value(d['low_tco2e'], 'tCO2e')} {format_value(d['high_tco2e'], 'tCO2e')}", pdf_text
            )
        mc = unc["monte_carlo"]
        assert _in_pdf(
            f"Monte Carlo (seed {mc['seed']}, {mc['draws']} draws): p05 {mc['p05_tco2e']:,.4f}, "
            f"p50 {mc['p50_tco2e']:,.4f}, p95 {mc['p95_tco2e']:,.4f} tCO2e",
            pdf_text,
        )
    # monitoring custody and quality controls per source, with the vehicle-days from each
    monitoring = document["monitoring"]
    assert _in_pdf(monitoring["statement"], pdf_text)
    for m in monitoring["sources"]:
        assert _in_pdf(f"{m['custody']} {m['quality_controls']} {m['vehicle_days']}", pdf_text), m["source"]
    # the gap split
    quality = document["data_quality"]
    for label, key, kind in (
        ("before monitoring", "gap_days_before_monitoring", "before_monitoring"),
        ("missing monitored days", "gap_days_missing_monitored", "missing_monitored"),
        ("future days", "future_days", "future"),
    ):
        assert _in_pdf(f"{label} {quality[key]} {quality['gap_kinds'][kind]}", pdf_text), label
    # intensities, and the withheld reduction with its data gap
    for key, value in document["results"]["intensity"].items():
        assert _in_pdf(f"{key} {format_value(value)}", pdf_text), key
    withheld = document["methodology"]["reduction_withheld"]
    if withheld:
        assert _in_pdf(f"Reduction: withheld. Data gap: {withheld}", pdf_text)
    # the run rate, its basis next to it, and the per-lease rows
    indicators = document["impact_indicators"]
    assert _in_pdf(
        f"{format_value(indicators['icma_annual_ghg_avoided_tco2e'], 'tCO2e')} tCO2e. Basis: {indicators['icma_basis']}",
        pdf_text,
    )
    for a in indicators["annualisation"]:
        assert _in_pdf(
            f"{a['lease_id']} {a['vehicle_id']} {a['lease_days_in_year']} {a['monitored_lease_days']} "
            f"{format_value(a['ex_post_reduction_tco2e'], 'tCO2e')} {format_value(a['annualised_tco2e'], 'tCO2e')}",
            pdf_text,
        )


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


def test_withheld_glec_package_agrees_and_says_withheld(tmp_path, registry) -> None:
    """GLEC WTW: the reduction is withheld; the XLSX and PDF carry the intensities and the stated data gap."""
    document = make_document(registry, GLEC_WTW)
    files = write_package(document, tmp_path, "glec")
    wb = load_workbook(files.xlsx, read_only=True)
    pdf_text = " ".join(" ".join(page.extract_text() for page in pypdf.PdfReader(files.pdf).pages).split())
    assert (
        document["methodology"]["reduction_withheld"]
        and document["results"]["ex_post"]["reduction_tco2e"] is None
    )
    assert_sections_agree(document, wb, pdf_text)
    intensity = {r[0]: r[1] for r in wb["Intensity"].iter_rows(min_row=2, values_only=True)}
    assert intensity["results.ex_post.reduction_tco2e"] is None
    assert intensity["methodology.reduction_withheld"].startswith("WTW reduction withheld")


def test_text_that_looks_like_a_formula_is_inert_in_the_package_xlsx(tmp_path, registry) -> None:
    """A lessee name, a lease reference and a row reference starting with =, @, + or - are written with a leading
    apostrophe (fleet.exports.safe_cell): text cells, never formulas. The JSON keeps the text as it is."""
    from fleet.emissions.records import LeaseBook, Party

    name = '=HYPERLINK("http://example.invalid/x","click")'
    metered = [replace(d, row_ref=f"=1+{n}") for n, d in enumerate(reference_days(2024)[:10])]
    lease = reference_lease(lease_id="@SUM(A1)", plate="+粤B00001", baseline_model="-cmd|' /C calc'!A0")
    book = LeaseBook(
        leases=(lease,),
        parties={
            "lessee-a": Party("lessee-a", name, "Shenzhen"),
            "lessor": Party("lessor", "Lessor Leasing Co.", "Shenzhen"),
        },
    )
    report = build_report("lessee-a", parse_period("2024"), metered, [], book, TCSAE_235, registry)
    document = build_document(report, book, ProjectInfo("\tinjected project"), registry)
    assert document["parties"]["lessee"]["name"] == name
    files = write_package(document, tmp_path, "inert")
    wb = load_workbook(files.xlsx)
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r")), (ws.title, cell.value)
                    texts.append(cell.value)
    summary = {r[4]: r[2] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["parties.lessee.name"] == "'" + name
    assert summary["project.name"] == "'\tinjected project"
    assert "'@SUM(A1)" in texts and "'+粤B00001" in texts and "'=1+0" in texts
    assert "'-cmd|' /C calc'!A0" in texts
