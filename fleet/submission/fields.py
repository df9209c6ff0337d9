"""The submission's field list, in one place.

The Shenzhen specification DB4403/T 452—2024 (气候投融资项目分类与评估规范) was not read: its indicators and
submission fields are unknown (data/reference/METHODOLOGY.md §5). The fields below come from issue 5, the ICMA clean-transport
indicator and the fields data/reference/METHODOLOGY.md §5 infers. When the Shenzhen text is at hand, edit this list (labels,
order, new fields) and bump SCHEMA_VERSION; the JSON schema, the XLSX summary sheet and the PDF summary table
all read it.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_ID = "evfleet.climate-finance-submission"
SCHEMA_VERSION = "1.2.0"


@dataclass(frozen=True)
class SubmissionField:
    """One summary field: where it sits in the JSON (dotted path), its labels, unit, JSON type and origin."""

    path: str
    label_en: str
    label_zh: str
    json_type: str  # "string", "number", "integer", "number|null", "string|null", "array", "object"
    unit: str = ""
    origin: str = "issue 5"


FIELDS: tuple[SubmissionField, ...] = (
    SubmissionField("project.name", "Project name", "项目名称", "string"),
    SubmissionField(
        "project.category_en",
        "Project category",
        "项目类别",
        "string",
        origin="issue 5; Shenzhen library field 低碳交通 (data/reference/METHODOLOGY.md §5, S)",
    ),
    SubmissionField(
        "project.category_zh",
        "Project category (Chinese)",
        "项目类别（中文）",
        "string",
        origin="Shenzhen library field 低碳交通 (data/reference/METHODOLOGY.md §5, S)",
    ),
    SubmissionField("project.location", "Location", "项目地点", "string"),
    SubmissionField("parties.lessee.name", "Lessee", "承租人", "string"),
    SubmissionField(
        "parties.lessee.registration_code",
        "Lessee registration code (USCC)",
        "承租人统一社会信用代码",
        "string",
        origin="inferred (data/reference/METHODOLOGY.md §5)",
    ),
    SubmissionField("parties.lessor.name", "Lessor", "出租人", "string"),
    SubmissionField(
        "parties.lessor.registration_code",
        "Lessor registration code (USCC)",
        "出租人统一社会信用代码",
        "string",
        origin="issue 19 item 6 (library entry identity); --identity file, empty until filled",
    ),
    SubmissionField(
        "identity.signatory.name",
        "Signatory",
        "签署人",
        "string",
        origin="issue 19 item 6; --identity file, empty until filled",
    ),
    SubmissionField(
        "identity.signatory.title",
        "Signatory title",
        "签署人职务",
        "string",
        origin="issue 19 item 6; --identity file, empty until filled",
    ),
    SubmissionField(
        "identity.verifier.name",
        "Third-party verifier",
        "第三方核查机构",
        "string",
        origin="issue 19 item 6 (third-party assessment, METHODOLOGY.md §5); empty until filled",
    ),
    SubmissionField(
        "identity.verifier.accreditation",
        "Verifier accreditation",
        "核查机构资质",
        "string",
        origin="issue 19 item 6; empty until filled",
    ),
    SubmissionField("project.vehicle_count", "Vehicles", "车辆数", "integer"),
    SubmissionField(
        "project.investment_cny", "Investment amount (from the leases)", "投资金额", "number|null", "CNY"
    ),
    SubmissionField(
        "project.implementation_period.start", "Implementation period start", "实施期开始", "string"
    ),
    SubmissionField(
        "project.implementation_period.end", "Implementation period end", "实施期结束", "string|null"
    ),
    SubmissionField("reporting_period.year", "Reporting year", "报告年度", "integer"),
    SubmissionField("methodology.profile_id", "Methodology profile", "方法学", "string"),
    SubmissionField("methodology.name", "Methodology", "方法学名称", "string"),
    SubmissionField("methodology.version", "Methodology version", "方法学版本", "string"),
    SubmissionField(
        "methodology.grid_factor.key",
        "Grid emission factor key",
        "电网排放因子",
        "string",
        origin="data/reference/METHODOLOGY.md §1 (store factor keys and vintages)",
    ),
    SubmissionField(
        "methodology.grid_factor.used_data_year",
        "Grid factor data year",
        "电网排放因子年份",
        "integer|null",
        origin="data/reference/METHODOLOGY.md §1 vintage rule",
    ),
    SubmissionField(
        "results.ex_ante.reduction_tco2e", "Ex-ante reduction", "预期减排量", "number|null", "tCO2e"
    ),
    SubmissionField(
        "results.ex_ante_label", "Ex-ante basis", "事前估算依据", "string", origin="issue 19 item 3"
    ),
    SubmissionField(
        "results.ex_post.baseline_tco2e", "Ex-post baseline emissions", "基准线排放", "number", "tCO2e"
    ),
    SubmissionField(
        "results.ex_post.project_tco2e", "Ex-post project emissions", "项目排放", "number|null", "tCO2e"
    ),
    SubmissionField("results.ex_post.leakage_tco2e", "Ex-post leakage", "泄漏", "number", "tCO2e"),
    SubmissionField(
        "results.ex_post.reduction_tco2e", "Ex-post monitored reduction", "监测减排量", "number|null", "tCO2e"
    ),
    SubmissionField("results.ex_post.km", "Monitored distance", "监测里程", "number", "km"),
    SubmissionField("results.ex_post.grid_kwh", "Monitored grid electricity", "监测用电量", "number", "kWh"),
    SubmissionField(
        "impact_indicators.icma_annual_ghg_avoided_tco2e",
        "ICMA annual GHG emissions avoided (annualised run rate)",
        "年温室气体减排量（ICMA，按监测天数年化）",
        "number|null",
        "tCO2e",
        origin="ICMA Harmonised Framework for Impact Reporting, clean transport (data/reference/METHODOLOGY.md §5, S)",
    ),
    SubmissionField(
        "impact_indicators.icma_basis",
        "Basis of the annualised figure",
        "年化方法",
        "string",
        origin="issue 19 item 3: per-lease annualisation, lease-days in the year / monitored lease-days",
    ),
    SubmissionField(
        "impact_indicators.clean_vehicles_deployed",
        "Clean vehicles deployed",
        "新能源车辆数",
        "integer",
        origin="ICMA clean-transport activity indicator (data/reference/METHODOLOGY.md §5, S)",
    ),
    SubmissionField(
        "impact_indicators.tonne_km",
        "Freight transported",
        "货运周转量",
        "number",
        "t·km",
        origin="ICMA clean-transport activity indicator (data/reference/METHODOLOGY.md §5, S)",
    ),
    SubmissionField("data_quality.rows_checked", "Metered rows checked", "检查的监测记录", "integer"),
    SubmissionField(
        "data_quality.rows_excluded", "Metered rows excluded (flagged)", "剔除的监测记录", "integer"
    ),
    SubmissionField(
        "impact_indicators.monitored_days",
        "Monitored days behind the annualised figure",
        "年化所依据的监测天数",
        "integer",
        "days",
        origin="issue 19 item 3",
    ),
    SubmissionField(
        "impact_indicators.full_year_expectation_tco2e",
        "Full-year expectation (ex-ante)",
        "全年预期减排量（事前）",
        "number|null",
        "tCO2e",
        origin="issue 19 item 3",
    ),
    SubmissionField(
        "impact_indicators.full_year_expectation_basis",
        "Basis of the full-year expectation",
        "全年预期的依据",
        "string",
        origin="issue 19 item 3",
    ),
    SubmissionField(
        "data_quality.gap_days",
        "Lease days without metered data (before monitoring + missing monitored)",
        "缺失监测天数",
        "integer",
    ),
    SubmissionField(
        "data_quality.gap_days_before_monitoring",
        "Lease days before monitoring began",
        "监测开始前的租赁天数",
        "integer",
        origin="issue 19 item 3",
    ),
    SubmissionField(
        "data_quality.gap_days_missing_monitored",
        "Missing monitored days",
        "监测期内缺失天数",
        "integer",
        origin="issue 19 item 3",
    ),
    SubmissionField(
        "data_quality.future_days",
        "Future lease days (after the check date)",
        "未到期天数",
        "integer",
        origin="issue 19 item 3",
    ),
    SubmissionField(
        "attribution.claimant",
        "Claimant of the reductions",
        "减排量归属方",
        "string",
        origin="data/reference/METHODOLOGY.md §3 (one claimant per vehicle-period)",
    ),
)

IDENTITY_KEYS: tuple[str, ...] = (
    "lessor_uscc",
    "lessee_uscc",
    "signatory_name",
    "signatory_title",
    "verifier_name",
    "verifier_accreditation",
)
"""Keys of the `--identity` JSON file; they fill `parties.*.registration_code` and `identity.*` above."""

REPLACED_TRUCK_COLUMNS: tuple[str, ...] = (
    "lease_id",
    "plate",
    "vin",
    "disposal",
    "disposal_date",
    "evidence",
)
"""Columns of the `--baseline-trucks` CSV: the diesel truck each lease replaced and its scrapping or sale record."""

DISPOSAL_KINDS: tuple[str, ...] = ("scrapped", "sold", "transferred")

SECTIONS: tuple[tuple[str, str, str], ...] = (
    (
        "vehicles",
        "array",
        "plate, VIN, model, lease dates, replaced diesel model, claimant, investment per vehicle",
    ),
    (
        "methodology",
        "object",
        "profile, version, source, boundary, vintage record, parameters still to confirm",
    ),
    ("parameters", "array", "every parameter with value, unit, registry key, data year, source and grade"),
    ("factors", "array", "the registry rows the parameters cite, with source, grade and note"),
    ("results", "object", "ex-post and ex-ante totals, per month, per vehicle, per depot"),
    ("impact_indicators", "object", "ICMA clean-transport indicators"),
    ("monitoring_plan", "array", "what is monitored, how, how often"),
    ("monitoring_data", "array", "every accepted metered vehicle-day with its computed emissions"),
    ("data_quality", "object", "flags per excluded row, data gaps, negative reductions"),
    ("attribution", "object", "claimant, vehicle-days attributed to another party, other registrations"),
    ("identity", "object", "signatory and third-party verifier (issue 19 item 6), empty until filled"),
    (
        "baseline",
        "object",
        "baseline scenario, regulatory context, the replaced diesel truck and its scrapping or sale record per lease",
    ),
    (
        "uncertainty",
        "object",
        "range of the reduction from its main drivers, data-quality grade per parameter",
    ),
    (
        "monitoring",
        "object",
        "data custody and quality controls per data source, with the vehicle-days from each",
    ),
)
"""Top-level sections beyond the summary fields: (key, JSON type, content)."""


def get_path(document: dict, path: str) -> object:
    """Value at a dotted path; KeyError names the missing part."""
    node: object = document
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"submission field {path!r} missing at {part!r}")
        node = node[part]
    return node
