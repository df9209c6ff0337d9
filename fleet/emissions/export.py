"""A report as a plain dict (for `evfleet emissions --json` and the app): totals, per vehicle, depot, lessee."""

from __future__ import annotations

import json
from collections import Counter

from fleet.emissions.calc import Totals, by_depot, by_lessee, by_vehicle_period, intensities, total
from fleet.emissions.report import EmissionsReport

REPORT_FORMAT = "evfleet.emissions-report/1"


def _t(t: Totals | None, withheld: bool = False) -> dict[str, object] | None:
    """Totals as a dict; when the profile withholds its reduction, reduction and project emissions are null and
    the partial project figure is named for what it is."""
    if t is None:
        return None
    out = {k: (round(v, 6) + 0.0 if isinstance(v, float) else v) for k, v in t.as_dict().items()}
    if withheld:
        out["project_partial_generation_co2_t"] = out["project_t"]
        out["project_t"] = None
        out["reduction_t"] = None
    return out


def report_to_dict(report: EmissionsReport) -> dict[str, object]:
    resolved = report.resolved
    gran = report.period.granularity
    post_v = by_vehicle_period(report.ex_post, gran)
    ante_v = by_vehicle_period(report.ex_ante, gran)
    everything = list(report.ex_post) + list(report.attributed_elsewhere)
    w = resolved.reduction_withheld
    return {
        "format": REPORT_FORMAT,
        "party": report.party_id,
        "period": {
            "label": report.period.label,
            "granularity": gran,
            "start": report.period.start.isoformat(),
            "end": report.period.end.isoformat(),
        },
        "profile": {
            "id": report.profile.profile_id,
            "name": report.profile.name,
            "version": report.profile.version,
            "baseline_method": report.profile.baseline_method,
            "grid_basis": report.profile.grid_basis,
            "to_confirm": list(report.profile.to_confirm),
        },
        "vintage": resolved.vintage.as_dict() if resolved.vintage else None,
        "parameters": [p.as_dict() for p in resolved.parameters()],
        "tdl_multiplier": resolved.tdl_multiplier,
        "reduction_withheld": resolved.withheld,
        "ex_post": _t(total(report.ex_post), w),
        "ex_ante": _t(total(report.ex_ante), w),
        "intensity_ex_post": intensities(list(report.ex_post), w),
        "per_vehicle": [
            {"vehicle_id": v, "ex_post": _t(post_v.get((v, p)), w), "ex_ante": _t(ante_v.get((v, p)), w)}
            for v, p in sorted(set(post_v) | set(ante_v))
        ],
        "per_depot": {k: _t(v, w) for k, v in by_depot(report.ex_post).items()},
        "per_lessee_all_claimants": {k: _t(v, w) for k, v in by_lessee(everything).items()},
        "attributed_elsewhere": _t(total(report.attributed_elsewhere), w),
        "negative_vehicle_days": []
        if w
        else [
            {"vehicle_id": r.vehicle_id, "day": r.day.isoformat(), "reduction_t": round(r.reduction_t, 6)}
            for r in report.negative_days
        ],
        "data_quality": {
            "rows_checked": report.rows_checked,
            "rows_excluded": report.rows_excluded,
            "flag_counts": dict(sorted(Counter(f.code for f in report.flags).items())),
            "flags": [f.as_dict() for f in report.flags],
            "plan_flags": len(report.plan_flags),
            "gap_days": sum(g.days for g in report.gaps),
            "gaps": [g.as_dict() for g in report.gaps],
        },
    }


def report_json(report: EmissionsReport) -> str:
    return json.dumps(report_to_dict(report), ensure_ascii=False, indent=2, allow_nan=False) + "\n"
