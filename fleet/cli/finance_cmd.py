"""`evfleet roi`: lease economics from a scenario file, one lease or the whole portfolio in the database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.table import Table

from fleet.cli.common import DB_OPTION, LESSEE_OPTION, scoped_session
from fleet.finance.errors import FinanceInputError
from fleet.scope import ScopeError


def _fail(message: str) -> None:
    """Print one unwrapped error line (file, field, reason) and exit with status 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _fmt(value: Any, suffix: str = "", places: int = 2) -> str:
    """Numbers for tables: '%' multiplies by 100; floats get `places` decimals; None is a dash."""
    if value is None:
        return "–"
    if suffix == "%":
        return f"{value * 100:.2f} %"
    if isinstance(value, float):
        return f"{value:,.{places}f}{suffix}"
    return f"{value:,}{suffix}" if isinstance(value, int) else f"{value}{suffix}"


def _money(value: Any) -> str:
    return "–" if value is None else f"{value:,.2f}"


def _lessor_table(title: str, lessor: dict[str, Any]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("lessor metric")
    table.add_column("project", justify="right")
    table.add_column("equity", justify="right")
    p, e = lessor["project"], lessor["equity"]
    table.add_row("NPV (CNY)", _money(p["npv"]), _money(e["npv"]))
    table.add_row("IRR monthly", _fmt(p["irr_monthly"], "%"), _fmt(e["irr_monthly"], "%"))
    table.add_row(
        "IRR nominal annual (12 r)", _fmt(p["irr_nominal_annual"], "%"), _fmt(e["irr_nominal_annual"], "%")
    )
    table.add_row(
        "IRR effective annual", _fmt(p["irr_effective_annual"], "%"), _fmt(e["irr_effective_annual"], "%")
    )
    table.add_row(
        "MIRR effective annual", _fmt(p["mirr_effective_annual"], "%"), _fmt(e["mirr_effective_annual"], "%")
    )
    table.add_row(
        "payback (months)",
        _fmt(p["payback_months_interpolated"], places=1),
        _fmt(e["payback_months_interpolated"], places=1),
    )
    table.add_row(
        "discounted payback (months)",
        _fmt(p["discounted_payback_months_interpolated"], places=1),
        _fmt(e["discounted_payback_months_interpolated"], places=1),
    )
    table.add_row("DSCR min / avg", "", f"{_fmt(lessor['dscr_min'])} / {_fmt(lessor['dscr_avg'])}")
    table.add_row("LLCR", "", _fmt(lessor["llcr"]))
    if lessor.get("dscr_below_covenant"):
        table.caption = (
            f"min DSCR below the typical {lessor['dscr_covenant']:g}x covenant "
            "(data/reference/FINANCE.md DSCR row, unverified)"
        )
    return table


def _print_scenario(report: dict[str, Any], console: Console) -> None:
    console.print(f"[bold]Scenario:[/bold] {report['scenario']}  {report['description']}", highlight=False)
    if "lessor" in report:
        console.print(_lessor_table("Lessor", report["lessor"]))
        _print_covenant_and_costs(report["lessor"], console)
    lessee = report["lessee"]
    table = Table(
        title="Lessee: electric lease vs diesel (levelised over the lease term)", title_justify="left"
    )
    table.add_column("")
    table.add_column(lessee["electric"]["name"], justify="right")
    table.add_column(lessee["diesel"]["name"], justify="right")
    table.add_row(
        "PV of costs (CNY)", _money(lessee["electric"]["pv_cost"]), _money(lessee["diesel"]["pv_cost"])
    )
    table.add_row(
        "cost (CNY/month)",
        _money(lessee["electric"]["cost_per_month"]),
        _money(lessee["diesel"]["cost_per_month"]),
    )
    table.add_row(
        "cost (CNY/km)",
        _fmt(lessee["electric"]["cost_per_km"], places=4),
        _fmt(lessee["diesel"]["cost_per_km"], places=4),
    )
    console.print(table)
    console.print(
        f"Lessee saving: {_money(lessee['saving_per_month'])} CNY/month; break-even "
        f"{_fmt(lessee['break_even_km_per_year'], places=0)} km/yr ({lessee['break_even_note']})",
        highlight=False,
    )
    if report.get("lessee", {}).get("electricity_basis"):
        console.print(
            f"Electricity {report['lessee']['electricity_cny_per_kwh']:.4f} CNY/kWh; basis: "
            f"{report['lessee']['electricity_basis']}",
            highlight=False,
        )
    if report.get("view") == "lessee":
        rent = report.get("rent", {})
        console.print(
            f"Rent {_money(rent.get('monthly_rent'))} CNY/month; your break-even rent (saving = 0) "
            f"{_money(rent.get('lessee_max_rent_saving_zero'))}",
            highlight=False,
        )
    elif "rent" in report:
        rent = report["rent"]
        console.print(
            f"Rent corridor: lessor's hurdle rent (project NPV = 0) {_money(rent['lessor_min_rent_npv_zero'])}, "
            f"covenant rent {_money(rent.get('covenant_min_rent'))}, floor {_money(rent.get('lessor_floor_rent'))}"
            f" | lessee's break-even {_money(rent['lessee_max_rent_saving_zero'])}: corridor "
            f"{'exists' if rent.get('corridor_exists') else 'NONE'}; rent to floor "
            f"{_fmt(rent.get('rent_change_to_floor'), '%')}",
            highlight=False,
        )
    if report.get("battery") and report.get("view") != "lessee":
        _print_battery(report["battery"], console)
    if "carbon" in report:
        console.print(f"Carbon revenue: {report['carbon']['basis']}", highlight=False)
        scenario = report["carbon"].get("scenario")
        if scenario and report.get("view") != "lessee":
            console.print(
                f"  scenario only, carbon at {scenario['price_cny_per_t']:g} CNY/t: project NPV "
                f"{_money(scenario['project_npv'])}, IRR {_fmt(scenario['project_irr_effective_annual'], '%')}",
                highlight=False,
            )
    if "rent" in report and report.get("view") != "lessee":
        rent = report["rent"]
        console.print(
            f"Rent {_money(rent['monthly_rent'])} CNY/month (lease-rate factor "
            f"{_fmt(rent['lease_rate_factor'], places=5)}); lessor's minimum (project NPV = 0) "
            f"{_money(rent['lessor_min_rent_npv_zero'])}, lessee's maximum (saving = 0) "
            f"{_money(rent['lessee_max_rent_saving_zero'])}; pre-tax rent at the discount rate "
            f"{_money(rent['rent_at_discount_rate_pre_tax'])}",
            highlight=False,
        )
    if "tornado" in report and report.get("view") == "lessee":
        table = Table(title="Sensitivity of your saving (one at a time)", title_justify="left")
        for name in ("driver", "low", "high", "Δ saving/month low/high"):
            table.add_column(name, justify="left" if name == "driver" else "right")
        for r in report["tornado"]["rows"]:
            table.add_row(
                r["driver"],
                _fmt(r["low"], places=4),
                _fmt(r["high"], places=4),
                f"{_money(r['saving_delta_low'])} / {_money(r['saving_delta_high'])}",
            )
        console.print(table)
    elif "tornado" in report:
        t = report["tornado"]
        table = Table(title="Sensitivity (one at a time; deltas vs base)", title_justify="left")
        for name in (
            "driver",
            "low",
            "high",
            "Δ project NPV low/high",
            "Δ equity NPV low/high",
            "Δ lessee saving/month low/high",
            "range",
        ):
            table.add_column(name, justify="left" if name in ("driver", "range") else "right")
        for r in t["rows"]:
            table.add_row(
                r["driver"],
                _fmt(r["low"], places=4),
                _fmt(r["high"], places=4),
                f"{_money(r['npv_delta_low'])} / {_money(r['npv_delta_high'])}",
                f"{float(r['equity_npv_low']) - float(t['base_equity_npv']):,.2f} / "
                f"{float(r['equity_npv_high']) - float(t['base_equity_npv']):,.2f}",
                f"{_money(r['saving_delta_low'])} / {_money(r['saving_delta_high'])}",
                r["range_source"],
            )
        console.print(table)
    if report.get("variants") and report.get("view") != "lessee":
        table = Table(title="Named scenarios", title_justify="left")
        for name in (
            "scenario",
            "project NPV",
            "equity NPV",
            "project IRR (eff.)",
            "lessee saving/month",
            "break-even km/yr",
        ):
            table.add_column(name, justify="left" if name == "scenario" else "right")
        for v in report["variants"]:
            table.add_row(
                v["name"],
                _money(v["project_npv"]),
                _money(v["equity_npv"]),
                _fmt(v["project_irr_effective_annual"], "%"),
                _money(v["lessee_saving_per_month"]),
                _fmt(v["break_even_km_per_year"], places=0),
            )
        console.print(table)
    _print_assumptions(report["assumptions"], console)
    console.print(report["note"], style="dim", highlight=False)


def _print_battery(b: dict[str, Any], console: Console) -> None:
    """The battery's projected SoH and the residual that follows it (issue 19 item 12)."""
    warn = " (below end of life: replacement likely)" if b["below_end_of_life"] else ""
    console.print(
        f"Battery: SoH {b['soh_at_start']:.1%} at the start -> {b['soh_at_end']:.1%} at lease end{warn} "
        f"({b['equivalent_full_cycles']:,.0f} full cycles); residual {_money(b['base_residual_value'])} x "
        f"f {b['residual_factor']:.4f} = {_money(b['residual_value_at_end'])} CNY",
        highlight=False,
    )
    console.print(f"  SoH basis: {b['basis']}", highlight=False)
    console.print(f"  {b['rule']}", style="dim", highlight=False)


def _print_covenant_and_costs(lessor: dict[str, Any], console: Console) -> None:
    costs = lessor.get("lessor_costs")
    if costs:
        console.print(
            "Lessor's costs (CNY/month): "
            + ", ".join(f"{k} {float(v):,.2f}" for k, v in costs["per_month"].items())
            + f"; total {float(costs['total_per_month']):,.2f}",
            highlight=False,
        )
    c = lessor.get("covenant")
    if c and c["applies"]:
        if c["met"]:
            console.print(
                f"Covenants met: DSCR >= {c['dscr_min_required']:g}x and LLCR >= {c['llcr_min_required']:g}x "
                "in every month",
                highlight=False,
            )
        else:
            console.print(
                f"COVENANT BREACH: DSCR < {c['dscr_min_required']:g}x in months "
                f"{', '.join(c['dscr_breaches']) or '–'}; LLCR < {c['llcr_min_required']:g}x in months "
                f"{', '.join(c['llcr_breaches']) or '–'}",
                style="red",
                highlight=False,
            )


def _print_assumptions(assumptions: list[dict[str, Any]], console: Console) -> None:
    if not assumptions:
        console.print("All inputs given explicitly (no defaults used).")
        return
    table = Table(
        title=f"Defaults used ({len(assumptions)}); edit them in the scenario file", title_justify="left"
    )
    for name in ("input", "value", "grade", "flag", "source"):
        table.add_column(name, overflow="fold")
    for a in assumptions:
        flag = a["flag"].upper() if a["flag"] == "unverified" else a["flag"]
        table.add_row(a["field"], f"{a['value']:g} {a['unit']}", a["grade"], flag, a["source"])
    console.print(table)


def _print_lease_lines(report: dict[str, Any], console: Console) -> None:
    table = Table(
        title="Per lease: the lessor's costs, the covenant test and the rent corridor (CNY/month)",
        title_justify="left",
    )
    for name in (
        "lease",
        "lessee",
        "rent",
        "lessor costs",
        "ins/maint/tyres/telem/batt/ovhd/bad debt",
        "project IRR",
        "DSCR min",
        "LLCR",
        "covenant (breach months)",
        "hurdle rent",
        "covenant rent",
        "floor",
        "lessee break-even",
        "corridor",
        "rent to floor",
        "kWh price",
        "SoH end",
        "residual",
    ):
        table.add_column(
            name, justify="left" if name in ("lease", "lessee", "covenant (breach months)") else "right"
        )
    console = Console(width=max(console.width, 240))
    for row in report.get("lease_lines", []):
        c, r, costs = row["covenant"], row["rent"], row["lessor_costs"]["per_month"]
        if not c["applies"]:
            cov = "no loan"
        elif c["met"]:
            cov = f"met ({c['dscr_min_required']:g}x)"
        else:
            months = ", ".join(m.split(" ")[0] for m in c["dscr_breaches"]) or "–"
            cov = f"BREACH {c['dscr_min_required']:g}x DSCR m {months}"
            if c["llcr_breaches"]:
                cov += f"; LLCR m {', '.join(m.split(' ')[0] for m in c['llcr_breaches'])}"
        table.add_row(
            row["lease"],
            row["lessee"],
            _money(r["monthly_rent"]),
            _money(row["lessor_costs"]["total_per_month"]),
            "/".join(
                f"{float(costs[k]):,.0f}"
                for k in (
                    "insurance",
                    "maintenance",
                    "tyres",
                    "telematics",
                    "battery",
                    "overhead",
                    "bad_debt",
                )
            ),
            _fmt(row["project_irr_effective_annual"], "%"),
            _fmt(row["dscr_min"]),
            _fmt(row["llcr"]),
            cov,
            _money(r["lessor_min_rent_npv_zero"]),
            _money(r["covenant_min_rent"]),
            _money(r["lessor_floor_rent"]),
            _money(r["lessee_max_rent_saving_zero"]),
            "yes" if r["corridor_exists"] else "NONE",
            _fmt(r["rent_change_to_floor"], "%"),
            _fmt(row["electricity"]["cny_per_kwh"], places=4),
            "–" if not row.get("battery") else f"{row['battery']['soh_at_end']:.1%}",
            "–" if not row.get("battery") else _money(row["battery"]["residual_value_at_end"]),
        )
    console.print(table)
    bases = sorted({row["electricity"]["basis"].split(":")[0] for row in report.get("lease_lines", [])})
    carbon = sorted({row["carbon_basis"] for row in report.get("lease_lines", [])})
    batteries = sorted(
        {
            row["battery"]["basis"].split(":")[0].split(" (")[0]
            for row in report.get("lease_lines", [])
            if row.get("battery")
        }
    )
    console.print(
        "hurdle rent: project NPV = 0 at the lessor's discount rate; covenant rent: no month below the DSCR/LLCR "
        "covenant; floor: the larger; lessee break-even: its PV saving against diesel is 0. Electricity basis: "
        + "; ".join(bases)
        + ". Carbon: "
        + "; ".join(carbon)
        + ". Residual: follows the battery's SoH at lease end; SoH basis: "
        + "; ".join(batteries),
        style="dim",
        highlight=False,
    )


def _print_errors(report: dict[str, Any], console: Console) -> None:
    if not report.get("errors"):
        return
    table = Table(
        title=f"Leases not evaluated ({len(report['errors'])}); the others are above", title_justify="left"
    )
    for name in ("lease", "lessee", "error"):
        table.add_column(name, overflow="fold")
    for e in report["errors"]:
        table.add_row(e["lease"], e["lessee"], e["error"])
    console.print(table, style="red")


def _print_portfolio(report: dict[str, Any], console: Console) -> None:
    _print_lease_lines(report, console)
    _print_errors(report, console)
    if report.get("total") is None:
        console.print("No lease could be evaluated.", style="red")
        return
    table = Table(title="Portfolio: lessor economics per lessee and in total", title_justify="left")
    for name in (
        "lessee",
        "leases",
        "months",
        "project NPV",
        "equity NPV",
        "project IRR (eff.)",
        "equity IRR (eff.)",
        "payback (months)",
        "DSCR min",
        "DSCR avg",
        "LLCR",
        "carbon (CNY)",
    ):
        table.add_column(name, justify="left" if name == "lessee" else "right")
    for row in [*report["by_lessee"], report["total"]]:
        table.add_row(
            row["label"],
            str(row["leases"]),
            str(row["months"]),
            _money(row["project"]["npv"]),
            _money(row["equity"]["npv"]),
            _fmt(row["project"]["irr_effective_annual"], "%"),
            _fmt(row["equity"]["irr_effective_annual"], "%"),
            _fmt(row["project"]["payback_months_interpolated"], places=1),
            _fmt(row["dscr_min"]),
            _fmt(row["dscr_avg"]),
            _fmt(row["llcr"]),
            _money(row["totals"]["carbon"]),
        )
    console.print(table)
    if report.get("assumptions"):
        _print_assumptions(report["assumptions"], console)
    if report.get("missing_fields"):
        console.print(
            "Schema fields not available, documented defaults used: " + ", ".join(report["missing_fields"]),
            style="yellow",
            highlight=False,
        )
    console.print(report["note"], style="dim", highlight=False)


def roi(
    scenario: Annotated[
        Path | None, typer.Option("--scenario", help="Scenario JSON file (docs/finance.md).")
    ] = None,
    saved: Annotated[
        str | None, typer.Option("--saved", help="Name of a scenario saved in the database.")
    ] = None,
    lease: Annotated[str | None, typer.Option("--lease", help="Lease code (or id) in the database.")] = None,
    portfolio: Annotated[
        bool, typer.Option("--portfolio", help="All leases in the database, per lessee and total.")
    ] = False,
    save_as: Annotated[
        str | None,
        typer.Option("--save-as", help="With --scenario: also save it in the database under this name."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    tornado: Annotated[
        bool, typer.Option("--tornado/--no-tornado", help="Include the sensitivity table.")
    ] = True,
    flows: Annotated[
        bool, typer.Option("--flows", help="Include the monthly cash flows (JSON only).")
    ] = False,
    db: str | None = DB_OPTION,
    lessee: str | None = LESSEE_OPTION,
) -> None:
    """Lease economics: lessor NPV/IRR/DSCR, lessee TCO against diesel, sensitivity."""

    if sum([scenario is not None, saved is not None, lease is not None, portfolio]) != 1:
        _fail("give exactly one of --scenario FILE, --saved NAME, --lease ID or --portfolio")
    if save_as is not None and scenario is None:
        _fail("--save-as needs --scenario FILE")
    console = Console(width=160)
    try:
        if scenario is not None:
            from fleet.finance.scenario import read_scenario_file

            try:
                loaded = read_scenario_file(scenario)
            except FinanceInputError as error:
                _fail(str(error) if error.field == str(scenario) else f"{scenario}: {error}")
            if save_as is not None:
                _save(scenario, save_as, db, lessee, console)
            data = _scenario_report(loaded, tornado, flows)
            _emit(data, as_json, lambda: _print_scenario(data, console))
            return
        from fleet.finance import from_db

        with scoped_session(db, lessee) as (session, scope):
            view = "lessee" if scope.lessee_id is not None else "lessor"
            if saved is not None:
                data = _scenario_report(from_db.load_scenario(session, scope, saved), tornado, flows)
                if view == "lessee":
                    from fleet.finance.report import lessee_view

                    data = lessee_view(data)
                _emit(data, as_json, lambda: _print_scenario(data, console))
            elif lease is not None:
                data = from_db.lease_report(
                    session,
                    scope,
                    lease,
                    tornado=tornado,
                    flows=flows,
                    view=view,
                    avoided_kg_per_km=_own(session, scope),
                )
                _emit(data, as_json, lambda: _print_scenario(data, console))
            elif view == "lessee":
                _fail(
                    "the portfolio report is the lessor's view (NPV, IRR, DSCR, floor rents); as a lessee use "
                    "--lease CODE for your own lease's cost against diesel"
                )
            else:
                data = from_db.portfolio_report(session, scope, avoided_kg_per_km=_own(session, scope))
                _emit(data, as_json, lambda: _print_portfolio(data, console))
    except FinanceInputError as error:
        _fail(str(error))
    except LookupError as error:
        _fail(str(error.args[0]) if error.args else str(error))
    except ScopeError as error:
        _fail(str(error))
    except sa.exc.SQLAlchemyError as error:
        _fail(
            f"database error ({type(error).__name__}): {str(error).splitlines()[0]}; "
            "has the schema been created (evfleet db upgrade / evfleet demo)?"
        )


def _scenario_report(loaded: Any, tornado: bool, flows: bool) -> dict[str, Any]:
    from fleet.finance import report as rep
    from fleet.finance.evaluate import evaluate
    from fleet.finance.sensitivity import tornado as run_tornado

    table = run_tornado(loaded.base, loaded.drivers, loaded.swing) if tornado else None
    return rep.scenario_dict(
        evaluate(loaded.base), table, [evaluate(v) for v in loaded.variants], flows=flows
    )


def _emit(data: dict[str, Any], as_json: bool, print_table: Any) -> None:
    from fleet.finance.report import to_json

    if as_json:
        typer.echo(to_json(data))
    else:
        print_table()


def _save(path: Path, name: str, db: str | None, lessee: str | None, console: Console) -> None:
    import json

    from fleet.finance import from_db

    with scoped_session(db, lessee) as (session, scope):
        from_db.save_scenario(session, scope, name, json.loads(path.read_text(encoding="utf-8")))
    Console(stderr=True).print(f"saved scenario {name!r} ({scope.describe()})", highlight=False)


def bench_finance(
    runs: Annotated[int, typer.Option("--runs", min=1, help="Repetitions per case.")] = 5,
    out: Annotated[Path, typer.Option("--out", help="JSON file to write.")] = Path(
        "bench-results/finance.json"
    ),
    db: Annotated[
        str | None, typer.Option("--db", help="Use this database instead of a fresh demo SQLite.")
    ] = None,
) -> None:
    """Time the demo portfolio report (target < 2 s) and a scenario with its tornado; print a table, write JSON."""
    import json

    from fleet.finance.bench import as_json, run

    timings = run(runs, db)
    table = Table(title="evfleet bench finance", title_justify="left")
    for name in ("case", "runs", "min s", "median s", "max s", "target s", "meets", "detail"):
        table.add_column(name, justify="right" if name.endswith("s") or name == "runs" else "left")
    for t in timings:
        table.add_row(
            t.case,
            str(t.runs),
            f"{t.min_s:.3f}",
            f"{t.median_s:.3f}",
            f"{t.max_s:.3f}",
            "–" if t.target_s is None else f"{t.target_s:g}",
            "–" if t.meets_target is None else ("yes" if t.meets_target else "NO"),
            t.detail,
        )
    Console(width=160).print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(as_json(timings), indent=2), encoding="utf-8")
    typer.echo(f"wrote {out}")


def _own(session, scope):  # type: ignore[no-untyped-def]
    """Each lease's own metered kgCO2/km (T/CSAE 235) for its carbon scenario; empty when nothing is metered."""
    import datetime as dt

    from fleet.cli.common import err_console
    from fleet.emissions.per_lease import avoided_kg_per_km

    try:
        return avoided_kg_per_km(session, scope, dt.date.today())
    except (ValueError, LookupError) as exc:  # no factor for the year, no party: keep the reference default
        err_console.print(
            f"[yellow]per-lease kgCO2/km unavailable ({exc}); the reference truck's figure is used[/]"
        )
        return {}


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add `evfleet roi` to the app and `evfleet bench finance` to the bench group."""
    app.command("roi", help="Lease economics: lessor NPV/IRR/DSCR, lessee TCO vs diesel, sensitivity.")(roi)
    bench.command("finance", help="Time the demo portfolio report and a scenario tornado; table + JSON.")(
        bench_finance
    )
