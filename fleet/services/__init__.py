"""The app's service layer: thin reads and writes for the Streamlit pages, one module per page.

The pages hold no business logic and import nothing from `fleet` but this package. A page opens one unit of work
per render and one per user action that writes (`unit_of_work(url)`, see `fleet.services.session`) and passes
its session, with the scope's lessee code (`None` = the lessor's whole view), to the services:

    with services.unit_of_work(ctx.url) as session:
        frame = fleet_leases.vehicles_frame(session, ctx.lessee_code)

Every service resolves the scope inside that session (`fleet.services.scope.in_scope`), so a page cannot read or
write outside it; services never commit (the unit of work does). Return values are plain (frozen dataclasses,
DataFrames, typed problems) so the app can cache them. Solves run in a worker process and take the database URL
instead (`fleet.services.solving`).

Modules: `session` (unit of work, database check), `scope` (scope rules, selector), `pickers` (depot and date),
`frames` (table helpers), `overview`, `fleet_leases` (tables and form writes), `imports`, `route_planner`,
`plan_versions` (route planner: versions and hand edits), `solving`, `charging`, `nightly_jobs`, `emissions`,
`lease_economics`.
"""

from __future__ import annotations

from fleet.services.session import Session, unit_of_work

__all__ = ["Session", "unit_of_work"]
