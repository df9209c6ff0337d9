"""The lender's PDF: project, identity, baseline with the replaced trucks, methodology with its requirements,
parameters, results with a monthly chart, intensities, the ICMA run rate per lease, uncertainty, monitoring plan,
custody and quality controls, data quality with the gap split, attribution. Rendered from the submission document; reportlab's invariant mode and a
metadata-free PNG keep the bytes stable for the same document."""

from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from fleet.submission.fields import FIELDS, get_path

CJK_FONT = "STSong-Light"  # reportlab's built-in CID font for Chinese text; needs no font file
MAX_FLAG_ROWS = 60
EMPTY = "(empty until filled)"


def format_value(value: object, unit: str = "") -> str:
    """How a value appears in the PDF: tCO2e to 4 decimals, km/kWh/t·km/CNY to 1, others as they are."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) or (isinstance(value, int) and unit):
        if unit in ("tCO2e", "tCO2"):
            return f"{value:,.4f}"
        if unit in ("km", "kWh", "t·km", "CNY"):
            return f"{value:,.1f}"
        return f"{value:,.6g}"
    return str(value)


def _chart_png(monthly: list[dict]) -> bytes:
    labels = [m["month"][5:] for m in monthly]
    post = [m["ex_post_reduction_tco2e"] or 0.0 for m in monthly]
    ante = [m["ex_ante_reduction_tco2e"] or 0.0 for m in monthly]
    fig, ax = plt.subplots(figsize=(7.0, 3.0), dpi=100)
    x = range(len(labels))
    ax.bar([i - 0.2 for i in x], ante, width=0.4, label="ex-ante (plans)", color="#9ecae1")
    ax.bar([i + 0.2 for i in x], post, width=0.4, label="ex-post (metered)", color="#3182bd")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xticks(list(x), labels)
    ax.set_xlabel("month")
    ax.set_ylabel("reduction [tCO2e]")
    ax.legend(ncol=2, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    plt.close(fig)
    return out.getvalue()


def pdf_bytes(document: dict) -> bytes:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    styles = getSampleStyleSheet()
    body, h1, h2, small = styles["BodyText"], styles["Title"], styles["Heading2"], styles["Code"]
    cell = styles["BodyText"].clone("cell", fontSize=7.5, leading=9)

    cjk_styles: dict[str, object] = {}

    def styled(text: str, style):
        """Helvetica has no Chinese glyphs: switch text that holds any to the CID font."""
        if any(ord(ch) >= 0x2E80 for ch in text):
            if style.name not in cjk_styles:
                cjk_styles[style.name] = style.clone(f"{style.name}_cjk", fontName=CJK_FONT)
            style = cjk_styles[style.name]
        return Paragraph(escape(text), style)

    def p(text: str, style=body) -> Paragraph:
        return styled(text, style)

    def table(rows: list[list[object]], widths: list[float] | None = None) -> Table:
        data = [[styled(str(c), cell) for c in row] for row in rows]
        t = Table(data, colWidths=widths, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#deebf7")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return t

    project, method, results = document["project"], document["methodology"], document["results"]
    quality, attribution = document["data_quality"], document["attribution"]
    story = [
        p(f"{project['name']}: avoided emissions {document['reporting_period']['year']}", h1),
        p(f"Schema {document['schema']} {document['schema_version']}; report {document['report_id']}", small),
    ]

    story += [
        p("1. Summary", h2),
        table(
            [["Field", "Value", "Unit"]]
            + [[f.label_en, format_value(get_path(document, f.path), f.unit), f.unit] for f in FIELDS],
            [80 * mm, 70 * mm, 20 * mm],
        ),
    ]

    story += [
        p("2. Project description", h2),
        p(f"Category: {project['category_en']}"),
        p(project["category_zh"]),
        p(
            f"Location: {project['location']}. Lessee: {document['parties']['lessee']['name']}. "
            f"Lessor: {document['parties']['lessor']['name']}. Claimant: {attribution['claimant']}."
        ),
        p(
            project["description"]
            or "Battery-electric trucks leased to a logistics operator replace diesel "
            "trucks; the reductions are the diesel emissions avoided minus the emissions of the electricity."
        ),
    ]
    vehicles = document["vehicles"]
    story += [
        table(
            [["Plate", "VIN", "Model", "Lease", "Replaced diesel [L/100 km]", "Ex-post reduction [tCO2e]"]]
            + [
                [
                    v["plate"] or v["vehicle_id"],
                    v["vin"],
                    v["model"],
                    f"{v['lease_start']} to {v['lease_end'] or 'open'}",
                    f"{v['baseline_diesel_model']} ({format_value(v['baseline_l_per_100km'], 'L/100 km')})",
                    format_value(v["ex_post_reduction_tco2e"], "tCO2e"),
                ]
                for v in vehicles
            ],
            [20 * mm, 36 * mm, 30 * mm, 32 * mm, 36 * mm, 26 * mm],
        )
    ]

    identity, parties = document["identity"], document["parties"]
    story += [
        p("Identity and signature", h2),
        table(
            [["Field", "Value"]]
            + [
                [label, value or EMPTY]
                for label, value in (
                    ("Lessee", parties["lessee"]["name"]),
                    ("Lessee USCC", parties["lessee"]["registration_code"]),
                    ("Lessor", parties["lessor"]["name"]),
                    ("Lessor USCC", parties["lessor"]["registration_code"]),
                    ("Signatory", identity["signatory"]["name"]),
                    ("Signatory title", identity["signatory"]["title"]),
                    ("Third-party verifier", identity["verifier"]["name"]),
                    ("Verifier accreditation", identity["verifier"]["accreditation"]),
                )
            ],
            [60 * mm, 110 * mm],
        ),
        p("Missing identity fields: " + (", ".join(identity["missing"]) or "none") + "."),
    ]

    baseline = document["baseline"]
    story += [
        p("3. Baseline", h2),
        p(
            "The baseline is the diesel truck each lease replaced, driving the metered distance of the electric "
            "truck (distance-based), or the diesel records where held (fuel-based). Baseline method: "
            f"{method['baseline_method']}."
        ),
        p(f"Baseline scenario: {baseline['scenario']}"),
        p(f"Regulatory context: {baseline['regulatory_context']}"),
        p(f"Replaced trucks: {baseline['flag_summary']}."),
        table(
            [["Lease", "Vehicle", "Replaced model", "Plate", "VIN", "Disposal", "Date", "Evidence", "Flags"]]
            + [
                [
                    t["lease_id"],
                    t["vehicle_id"],
                    t["baseline_diesel_model"],
                    t["replaced_truck_plate"],
                    t["replaced_truck_vin"],
                    t["replaced_truck_disposal"],
                    t["replaced_truck_disposal_date"],
                    t["replaced_truck_evidence"],
                    t["replaced_truck_flags"] or "none",
                ]
                for t in baseline["replaced_trucks"]
            ],
            [16 * mm, 18 * mm, 22 * mm, 16 * mm, 22 * mm, 16 * mm, 16 * mm, 20 * mm, 34 * mm],
        ),
        p("4. Methodology", h2),
        p(
            f"{method['name']} ({method['profile_id']}), version {method['version']}. Source: {method['source']}. "
            f"Boundary: {method['boundary']}. Gases: {method['gases']}. Grid factor: {method['grid_basis']}."
        ),
        p(
            f"Grid factor {method['grid_factor']['key']} = {method['grid_factor']['value']} kgCO2/kWh. "
            + (
                method["grid_factor"]["vintage"]["explanation"] + "."
                if method["grid_factor"]["vintage"]
                else ""
            )
        ),
        p(f"Sign: {method['reduction_sign']}."),
    ]
    story += [p(f"Formula: {f}", small) for f in method["formulas"]]
    story += [p("Still to be confirmed against the primary texts:")]
    story += [p(f"- {item}") for item in method["to_confirm"]]
    if method["reduction_withheld"]:
        story += [p(f"Reduction withheld: {method['reduction_withheld']}.")]
    story += [
        p("Methodology requirements and conformance", h2),
        table(
            [["Requirement", "Source", "Status", "Evidence"]]
            + [[r["requirement"], r["source"], r["status"], r["evidence"]] for r in method["requirements"]],
            [50 * mm, 40 * mm, 16 * mm, 64 * mm],
        ),
    ]

    story += [
        p("5. Parameters", h2),
        table(
            [["Parameter", "Value", "Unit", "Key", "Year", "Source", "Grade"]]
            + [
                [
                    q["name"],
                    format_value(q["value"]),
                    q["unit"],
                    q["key"] or "",
                    q["data_year"] or "",
                    q["source"],
                    q["confidence"],
                ]
                for q in document["parameters"]
            ],
            [30 * mm, 16 * mm, 16 * mm, 34 * mm, 10 * mm, 55 * mm, 17 * mm],
        ),
    ]

    post = results["ex_post"]
    ante = results["ex_ante"]
    story += [
        p("6. Results", h2),
        table(
            [
                ["Figure", "Ex-post (metered)", "Ex-ante (plans)"],
                [
                    "Baseline emissions [tCO2e]",
                    format_value(post["baseline_tco2e"], "tCO2e"),
                    format_value(ante.get("baseline_tco2e"), "tCO2e"),
                ],
                [
                    "Project emissions [tCO2e]",
                    format_value(post["project_tco2e"], "tCO2e"),
                    format_value(ante.get("project_tco2e"), "tCO2e"),
                ],
                [
                    "Leakage [tCO2e]",
                    format_value(post["leakage_tco2e"], "tCO2e"),
                    format_value(ante.get("leakage_tco2e"), "tCO2e"),
                ],
                [
                    "Reduction [tCO2e]",
                    format_value(post["reduction_tco2e"], "tCO2e"),
                    format_value(ante.get("reduction_tco2e"), "tCO2e"),
                ],
                ["Distance [km]", format_value(post["km"], "km"), format_value(ante.get("km"), "km")],
                [
                    "Grid electricity [kWh]",
                    format_value(post["grid_kwh"], "kWh"),
                    format_value(ante.get("grid_kwh"), "kWh"),
                ],
                ["Vehicle-days", post["vehicle_days"], ante.get("vehicle_days", "n/a")],
            ]
        ),
        p(
            "Ex-ante basis: {route_plan_days} vehicle-days from route plans, {lease_expectation_days} from the "
            "leases' expected km per year, {other_days} other.".format(**results["ex_ante_basis"])
        ),
        Spacer(1, 4 * mm),
        Image(io.BytesIO(_chart_png(results["monthly"])), width=170 * mm, height=73 * mm),
        table(
            [["Month", "Ex-post reduction [tCO2e]", "Ex-ante reduction [tCO2e]", "Vehicle-days"]]
            + [
                [
                    m["month"],
                    format_value(m["ex_post_reduction_tco2e"], "tCO2e"),
                    format_value(m["ex_ante_reduction_tco2e"], "tCO2e"),
                    m["ex_post_vehicle_days"],
                ]
                for m in results["monthly"]
            ]
        ),
    ]
    if results.get("ttw"):
        story += [
            p(
                f"Tank-to-wheel beside well-to-wheel: diesel baseline {format_value(results['ttw']['baseline_ttw_tco2'], 'tCO2')} "
                f"tCO2, electric trucks {format_value(results['ttw']['project_ttw_tco2'], 'tCO2')} tCO2."
            )
        ]

    story += [
        p("Intensities [gCO2e/t·km]", h2),
        table(
            [["Indicator", "Value"]] + [[k, format_value(v)] for k, v in results["intensity"].items()],
            [90 * mm, 40 * mm],
        ),
    ]
    if method["reduction_withheld"]:
        story += [p(f"Reduction: withheld. Data gap: {method['reduction_withheld']}.")]

    indicators = document["impact_indicators"]
    story += [
        p("ICMA annualised run rate", h2),
        p(
            "ICMA annual GHG emissions avoided: "
            f"{format_value(indicators['icma_annual_ghg_avoided_tco2e'], 'tCO2e')} tCO2e. Basis: "
            f"{indicators['icma_basis']}. Monitoring from {indicators['monitoring_start'] or 'n/a'} to "
            f"{indicators['monitored_until'] or 'n/a'} ({indicators['monitored_days']} days). Full-year "
            f"expectation: {format_value(indicators['full_year_expectation_tco2e'], 'tCO2e')} tCO2e "
            f"({indicators['full_year_expectation_basis']})."
        ),
    ]
    if indicators["annualisation"]:
        story += [
            table(
                [
                    [
                        "Lease",
                        "Vehicle",
                        "Lease-days in year",
                        "Monitored lease-days",
                        "Ex-post [tCO2e]",
                        "Annualised [tCO2e]",
                    ]
                ]
                + [
                    [
                        a["lease_id"],
                        a["vehicle_id"],
                        a["lease_days_in_year"],
                        a["monitored_lease_days"],
                        format_value(a["ex_post_reduction_tco2e"], "tCO2e"),
                        format_value(a["annualised_tco2e"], "tCO2e"),
                    ]
                    for a in indicators["annualisation"]
                ]
            )
        ]

    unc = document["uncertainty"]
    story += [p("Uncertainty", h2)]
    if "withheld" in unc:
        story += [p(f"Not assessed: the reduction is withheld ({unc['withheld']}).")]
    else:
        mc = unc["monte_carlo"]
        story += [
            p(f"Method: {unc['method']}. Central: {format_value(unc['central_tco2e'], 'tCO2e')} tCO2e."),
            table(
                [["Driver", "Range", "Reason", "Grade", "Low [tCO2e]", "High [tCO2e]"]]
                + [
                    [
                        d["driver"],
                        d["range"],
                        d["reason"],
                        d["grade"],
                        format_value(d["low_tco2e"], "tCO2e"),
                        format_value(d["high_tco2e"], "tCO2e"),
                    ]
                    for d in unc["drivers"]
                ],
                [28 * mm, 38 * mm, 52 * mm, 18 * mm, 17 * mm, 17 * mm],
            ),
            p(
                f"Monte Carlo (seed {mc['seed']}, {mc['draws']} draws): p05 {format_value(mc['p05_tco2e'], 'tCO2e')}, "
                f"p50 {format_value(mc['p50_tco2e'], 'tCO2e')}, p95 {format_value(mc['p95_tco2e'], 'tCO2e')} tCO2e."
            ),
        ]

    story += [
        p("7. Monitoring plan", h2),
        table(
            [["Parameter", "How", "Frequency", "Source"]]
            + [[m["parameter"], m["how"], m["frequency"], m["source"]] for m in document["monitoring_plan"]],
            [30 * mm, 85 * mm, 20 * mm, 45 * mm],
        ),
    ]

    monitoring = document["monitoring"]
    story += [
        p("Monitoring custody and quality controls", h2),
        p(monitoring["statement"]),
        table(
            [["Source", "Custody", "Quality controls", "Vehicle-days"]]
            + [
                [m["source"], m["custody"], m["quality_controls"], m["vehicle_days"]]
                for m in monitoring["sources"]
            ],
            [38 * mm, 60 * mm, 60 * mm, 16 * mm],
        ),
    ]

    kinds = quality["gap_kinds"]
    story += [
        p("8. Data quality and data gaps", h2),
        p(
            f"Metered rows checked: {quality['rows_checked']}; rows excluded: {quality['rows_excluded']}; "
            f"lease days without metered data: {quality['gap_days']}; vehicle-days with a negative reduction: "
            f"{len(quality['negative_reductions'])}."
        ),
        table(
            [["Gap", "Days", "Meaning"]]
            + [
                ["before monitoring", quality["gap_days_before_monitoring"], kinds["before_monitoring"]],
                ["missing monitored days", quality["gap_days_missing_monitored"], kinds["missing_monitored"]],
                ["future days", quality["future_days"], kinds["future"]],
            ],
            [40 * mm, 20 * mm, 110 * mm],
        ),
        p(f"Gaps checked until {quality['gaps_checked_until']}."),
    ]
    if quality["flags"]:
        shown = quality["flags"][:MAX_FLAG_ROWS]
        story += [
            table(
                [["Row", "Vehicle", "Day", "Flag", "Reason"]]
                + [[f["row_ref"], f["vehicle_id"], f["day"], f["code"], f["message"]] for f in shown],
                [28 * mm, 18 * mm, 20 * mm, 30 * mm, 84 * mm],
            )
        ]
        if len(quality["flags"]) > MAX_FLAG_ROWS:
            story += [
                p(f"{len(quality['flags']) - MAX_FLAG_ROWS} more flags in the XLSX sheet 'Data quality'.")
            ]
    if quality["gaps"]:
        story += [
            table(
                [["Vehicle", "From", "To", "Days", "Kind"]]
                + [
                    [g["vehicle_id"], g["first_day"], g["last_day"], g["days"], g["kind"]]
                    for g in quality["gaps"][:MAX_FLAG_ROWS]
                ]
            )
        ]
        if len(quality["gaps"]) > MAX_FLAG_ROWS:
            story += [p(f"{len(quality['gaps']) - MAX_FLAG_ROWS} more gaps in the XLSX sheet 'Data gaps'.")]
    if quality.get("lease_problems"):
        story += [
            p(
                "Leases without a baseline (not counted): "
                + "; ".join(f"{x['lease']} ({x['plate']}): {x['reason']}" for x in quality["lease_problems"])
            )
        ]

    story += [
        p("9. Attribution and double counting", h2),
        p(attribution["rule"] + "."),
        p(attribution["double_counting_statement"]),
    ]
    if attribution["attributed_elsewhere"]:
        story += [
            table(
                [["Vehicle", "Claimed by", "Vehicle-days", "Reduction [tCO2e] (not counted here)"]]
                + [
                    [
                        a["vehicle_id"],
                        a["claimant_id"],
                        a["vehicle_days"],
                        format_value(a["reduction_tco2e"], "tCO2e"),
                    ]
                    for a in attribution["attributed_elsewhere"]
                ]
            )
        ]

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        invariant=1,
        title=f"{project['name']} avoided emissions",
        author="evfleet",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    doc.build(story)
    return out.getvalue()


def write_pdf(document: dict, path: Path) -> Path:
    path.write_bytes(pdf_bytes(document))
    return path
