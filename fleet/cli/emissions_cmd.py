"""`evfleet emissions`, `evfleet submission` and `evfleet factors`: avoided emissions per lessee, the
climate-finance package, and the factor registry in the database.

Metered data come in through the foundation's `evfleet import trips|charging FILE` (fleet/cli/import_cmd.py);
those rows are checked for form there and for plausibility here (flagged, never silently used).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import typer
from rich.table import Table

from fleet.cli.common import DB_OPTION, console, fail, scoped_session

PROFILE_HELP = "Methodology profile: ams-iii-c, tcsae-235 or glec-wtw."
GRID_HELP = "Grid factor series instead of the profile's, e.g. national or southern (grid.cn.mee.<series>)."
LEDGER_ENV = "EVFLEET_CLAIMS_LEDGER"


def _profile(name: str, grid: str | None, vintage_lag: int | None):
    from fleet.emissions.profiles import get_profile
    from fleet.emissions.service import configured_profile

    try:
        return configured_profile(get_profile(name), grid, vintage_lag)
    except ValueError as exc:
        raise fail(str(exc)) from None


def _date(text: str | None, option: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise fail(f"{option} {text!r} is not a date YYYY-MM-DD") from None


def _fmt(value: float, digits: int = 3) -> str:
    return f"{value:,.{digits}f}"


def _print_report(db_report, source: str) -> None:
    from collections import Counter

    from fleet.emissions.calc import by_depot, by_lessee, by_lessor, by_vehicle_period, total

    report = db_report.report
    r = report.resolved
    console.print(
        f"[bold]{report.party_id}[/] {report.period.label}, profile [bold]{report.profile.profile_id}[/] "
        f"({report.profile.version})",
        highlight=False,
    )
    vintage = r.vintage.explanation if r.vintage else "fixed key"
    console.print(
        f"grid factor {r.grid_ef.key} = {r.grid_ef.value} {r.grid_ef.unit} ({vintage}); diesel "
        f"{r.diesel_ef.key} = {r.diesel_ef.value} {r.diesel_ef.unit}; TDL multiplier "
        f"{r.tdl_multiplier:g}; factors from {source}",
        highlight=False,
    )
    withheld = r.reduction_withheld
    if withheld:
        console.print(f"[yellow]{r.withheld}[/]", highlight=False)

    def red(value: float) -> str:
        return "withheld" if withheld else _fmt(value)

    gran = report.period.granularity
    post, ante = by_vehicle_period(report.ex_post, gran), by_vehicle_period(report.ex_ante, gran)
    table = Table(title="Per vehicle [t CO2(e)]")
    for col in (
        "vehicle",
        "days",
        "km",
        "grid kWh",
        "baseline",
        "project",
        "leakage",
        "reduction",
        "ex-ante reduction",
    ):
        table.add_column(col, justify="left" if col == "vehicle" else "right")
    for key in sorted(set(post) | set(ante)):
        p, a = post.get(key), ante.get(key)
        table.add_row(
            key[0],
            str(p.vehicle_days if p else 0),
            _fmt(p.km if p else 0, 1),
            _fmt(p.grid_kwh if p else 0, 1),
            _fmt(p.baseline_t if p else 0),
            "partial " + _fmt(p.project_t if p else 0) if withheld else _fmt(p.project_t if p else 0),
            _fmt(p.leakage_t if p else 0),
            red(p.reduction_t if p else 0),
            red(a.reduction_t) if a else "-",
        )
    tp, ta = total(report.ex_post), total(report.ex_ante)
    table.add_row(
        "total",
        str(tp.vehicle_days),
        _fmt(tp.km, 1),
        _fmt(tp.grid_kwh, 1),
        _fmt(tp.baseline_t),
        "partial " + _fmt(tp.project_t) if withheld else _fmt(tp.project_t),
        _fmt(tp.leakage_t),
        red(tp.reduction_t),
        red(ta.reduction_t),
        style="bold",
    )
    console.print(table)
    if withheld:
        from fleet.emissions.calc import intensities

        i = intensities(list(report.ex_post), True)
        console.print(
            f"intensities over {i['vehicle_days_with_tonne_km']} vehicle-days with t·km "
            f"({i['vehicle_days_without_tonne_km']} without): diesel baseline WTW {i['baseline_g_per_tkm']} "
            f"gCO2e/t·km, TTW {i['baseline_ttw_g_per_tkm']}; electric WTW withheld, partial (generation CO2) "
            f"{i['project_partial_generation_co2_g_per_tkm']}; {i['grid_kwh_per_tkm']} kWh/t·km",
            highlight=False,
        )
    fleet = list(report.ex_post) + list(report.attributed_elsewhere)
    for title, groups in (
        ("per depot", by_depot(report.ex_post)),
        ("per lessee, all claimants", by_lessee(fleet)),
        ("per lessor, all claimants", by_lessor(fleet)),
    ):
        if withheld:
            break
        if groups:
            console.print(
                f"{title}: "
                + "; ".join(
                    f"{k} {_fmt(v.reduction_t)} t ({v.vehicle_days} vehicle-days)" for k, v in groups.items()
                ),
                highlight=False,
            )
    if report.attributed_elsewhere and not withheld:
        te = total(report.attributed_elsewhere)
        console.print(
            f"claimed by the other party of the lease (not counted here): {te.vehicle_days} vehicle-days, "
            f"{_fmt(te.reduction_t)} t",
            highlight=False,
        )
    if report.negative_days and not withheld:
        console.print(
            f"[yellow]{len(report.negative_days)} vehicle-days with a negative reduction "
            f"(reported, not clipped)[/]"
        )
    counts = Counter(f.code for f in report.flags)
    console.print(
        f"data quality: {report.rows_checked} metered rows checked, {report.rows_excluded} excluded"
        + (" (" + ", ".join(f"{c} {n}" for c, n in sorted(counts.items())) + ")" if counts else "")
        + f"; {sum(g.days for g in report.gaps)} lease days without metered data",
        highlight=False,
    )
    if db_report.context.lease_problems:
        console.print(
            f"[yellow]{len(db_report.context.lease_problems)} lease(s) without a baseline, not counted[/]"
        )


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command("emissions")
    def emissions_cmd(
        period: str = typer.Option(..., "--period", help="YYYY, YYYY-MM or YYYY-MM-DD."),
        lessee: str | None = typer.Option(
            None, "--lessee", help="Lessee code; default: the lessor's own claims."
        ),
        profile: str = typer.Option("tcsae-235", "--profile", help=PROFILE_HELP),
        grid: str | None = typer.Option(None, "--grid", help=GRID_HELP),
        vintage_lag: int | None = typer.Option(
            None, "--vintage-lag", help="Reporting year Y uses grid data year Y minus this (default 2)."
        ),
        as_of: str | None = typer.Option(None, "--as-of", help="Count data gaps only up to this date."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
        db: str | None = DB_OPTION,
    ) -> None:
        """Baseline, project emissions and reduction per vehicle, ex-post beside ex-ante, with data-quality flags."""
        from fleet.emissions.calc import parse_period
        from fleet.emissions.export import report_json
        from fleet.emissions.service import report_from_db
        from fleet.factors import FactorError

        chosen = _profile(profile, grid, vintage_lag)
        try:
            the_period = parse_period(period)
        except ValueError as exc:
            raise fail(str(exc)) from None
        try:
            with scoped_session(db, lessee) as (session, scope):
                result = report_from_db(session, scope, lessee, the_period, chosen, _date(as_of, "--as-of"))
        except FactorError as exc:
            raise fail(str(exc)) from None
        if as_json:
            typer.echo(report_json(result.report), nl=False)
        else:
            _print_report(result, result.factor_source)

    @app.command("submission")
    def submission_cmd(
        year: int = typer.Option(..., "--year", help="Reporting year."),
        out: Path = typer.Option(..., "--out", help="Directory for the JSON, XLSX, PDF and manifest."),
        lessee: str | None = typer.Option(
            None, "--lessee", help="Lessee code; default: the lessor's own claims."
        ),
        profile: str = typer.Option("tcsae-235", "--profile", help=PROFILE_HELP),
        grid: str | None = typer.Option(None, "--grid", help=GRID_HELP),
        scheme: str = typer.Option(
            "climate-finance-submission",
            "--scheme",
            help="Claims scheme; one claim per vehicle-day and scheme.",
        ),
        ledger: Path | None = typer.Option(
            None,
            "--ledger",
            help=f"Legacy claims ledger JSON (default: ${LEDGER_ENV}); when it exists its claims are imported "
            "into the database first and the file is renamed to <name>.imported.",
        ),
        baseline_trucks: Path | None = typer.Option(
            None,
            "--baseline-trucks",
            help="CSV: the diesel truck each lease replaced and its scrapping/sale record.",
        ),
        identity: Path | None = typer.Option(
            None, "--identity", help="JSON: lessor/lessee USCC, signatory, third-party verifier."
        ),
        as_of: str | None = typer.Option(None, "--as-of", help="Count data gaps only up to this date."),
        db: str | None = DB_OPTION,
    ) -> None:
        """Write the climate-finance package (JSON, XLSX, PDF, SHA-256 manifest) and record its claims in the same
        transaction; refuses vehicle-days another package holds under the scheme."""
        from fleet.emissions.attribution import DoubleClaimError
        from fleet.factors import FactorError
        from fleet.submission.inputs import load_inputs
        from fleet.submission.run import make_submission

        chosen = _profile(profile, grid, None)
        legacy = ledger or (Path(os.environ[LEDGER_ENV]) if os.environ.get(LEDGER_ENV) else None)
        try:
            inputs = load_inputs(baseline_trucks, identity)
            with scoped_session(db, lessee) as (session, scope):
                result = make_submission(
                    session,
                    scope,
                    lessee,
                    year,
                    chosen,
                    out,
                    legacy,
                    _date(as_of, "--as-of"),
                    scheme=scheme,
                    inputs=inputs,
                )
        except (DoubleClaimError, FactorError, ValueError, OSError) as exc:
            raise fail(str(exc)) from None
        doc = result.document
        reduction = doc["results"]["ex_post"]["reduction_tco2e"]
        console.print(
            f"{doc['report_id']}: ex-post "
            + ("withheld" if reduction is None else f"{reduction:,.4f} tCO2e")
            + f", ex-ante {_ante(doc)}; {doc['data_quality']['rows_excluded']} rows excluded; "
            f"{result.claimed_vehicle_days} vehicle-days claimed in {result.ledger}",
            highlight=False,
        )
        if result.imported_ledger:
            console.print(f"legacy ledger imported and renamed to {result.imported_ledger}", highlight=False)
        for path in (
            result.files.json,
            result.files.xlsx,
            result.files.pdf,
            result.files.schema,
            result.files.manifest,
        ):
            console.print(f"  {path}", highlight=False)

    claims_app = typer.Typer(help="The claims table that prevents double counting.", no_args_is_help=True)
    app.add_typer(
        claims_app, name="claims", help="List, release or import the vehicle-days claimed by submissions."
    )

    @claims_app.command("list")
    def claims_list(db: str | None = DB_OPTION) -> None:
        """Print each report in the claims table with its scheme, claimant, package and vehicle-days held."""
        from fleet.emissions.claims import list_claims

        with scoped_session(db, None) as (session, scope):
            summaries = list_claims(session, scope)
        table = Table(title="Claims (table emissionclaim)")
        for col in ("report", "scheme", "claimant", "vehicle-days", "package"):
            table.add_column(col)
        for c in summaries:
            table.add_row(c.report_id, c.scheme, c.claimant, str(c.vehicle_days), c.package)
        console.print(table)

    @claims_app.command("release")
    def claims_release(
        report_id: str = typer.Argument(..., help="Report id, e.g. submission:PCX:2026:tcsae-235."),
        db: str | None = DB_OPTION,
    ) -> None:
        """Withdraw a report's claims (e.g. a submission that was never filed) so another report may claim them."""
        from fleet.emissions.claims import release

        with scoped_session(db, None) as (session, scope):
            released = release(session, scope, report_id)
        if not released:
            raise fail(f"report {report_id!r} holds no claims")
        console.print(f"released {released} vehicle-days of {report_id}", highlight=False)

    @claims_app.command("import")
    def claims_import(
        file: Path = typer.Argument(..., help="Legacy claims ledger JSON (evfleet-claims.json)."),
        scheme: str = typer.Option(
            "climate-finance-submission", "--scheme", help="Scheme the claims belong to."
        ),
        db: str | None = DB_OPTION,
    ) -> None:
        """Move a legacy JSON claims ledger into the database (refused as a whole on a conflicting claim); the
        file is renamed to <name>.imported."""
        from fleet.emissions.attribution import DoubleClaimError
        from fleet.emissions.claims import import_ledger

        if not file.exists():
            raise fail(f"{file}: no such ledger file")
        try:
            with scoped_session(db, None) as (session, scope):
                result = import_ledger(session, scope, file, scheme)
        except (DoubleClaimError, ValueError) as exc:
            raise fail(f"{file}: {exc}") from None
        done = file.with_name(file.name + ".imported")
        file.replace(done)
        console.print(
            f"{result.reports} report(s): {result.imported} vehicle-days imported, {result.already_held} already "
            f"held; ledger renamed to {done}",
            highlight=False,
        )

    factors_app = typer.Typer(help="The emission-factor registry in the database.", no_args_is_help=True)
    app.add_typer(
        factors_app, name="factors", help="Load or list the emission-factor registry (versioned by key)."
    )

    @factors_app.command("load")
    def factors_load(
        file: Path | None = typer.Option(None, "--file", help="Factor CSV (default: the shipped registry)."),
        db: str | None = DB_OPTION,
    ) -> None:
        """Add new factor keys to the database; a changed value for a stored key is refused."""
        from fleet.emissions.sources import load_factor_table
        from fleet.factors import FactorError, load_registry
        from fleet.scope import ScopeError

        try:
            registry = load_registry(file) if file else load_registry()
            with scoped_session(db, None) as (session, scope):
                result = load_factor_table(session, scope, registry)
        except (FactorError, ScopeError, OSError) as exc:
            raise fail(str(exc)) from None
        console.print(f"factors: {result.inserted} added, {result.unchanged} already stored unchanged")

    @factors_app.command("list")
    def factors_list(db: str | None = DB_OPTION) -> None:
        """Print the factors stored in the database with value, unit, data year and grade."""
        from fleet.emissions.sources import registry_from_table

        with scoped_session(db, None) as (session, scope):
            registry = registry_from_table(session, scope)
        table = Table(title=f"Emission factors ({len(registry)})")
        for col in ("key", "value", "unit", "year", "grade"):
            table.add_column(col)
        for f in registry:
            table.add_row(f.key, f"{f.value:g}", f.unit, str(f.data_year or ""), f.confidence)
        console.print(table)


def _ante(doc: dict) -> str:
    value = doc["results"]["ex_ante"].get("reduction_tco2e")
    if value is None and doc["methodology"].get("reduction_withheld"):
        return "withheld"
    return "n/a" if value is None else f"{value:,.4f} tCO2e"
