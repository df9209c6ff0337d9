"""The app's pages, one module each; `PAGES` is the navigation list `streamlit_app.py` builds from.

A new page is one new module here plus one `PageEntry` line below; docs/app.md lists what each page calls in the
packages (through `fleet.services`, one module per page).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageEntry:
    path: str  # relative to the repository root (where streamlit_app.py lives)
    title: str
    icon: str
    url_path: str
    default: bool = False


PAGES: tuple[PageEntry, ...] = (
    PageEntry("app_pages/overview.py", "Overview", ":material/dashboard:", "overview", default=True),
    PageEntry("app_pages/fleet_leases.py", "Fleet & leases", ":material/local_shipping:", "fleet"),
    PageEntry("app_pages/route_planner.py", "Route planner", ":material/route:", "routes"),
    PageEntry("app_pages/charging.py", "Charging", ":material/ev_station:", "charging"),
    PageEntry("app_pages/chargers.py", "Chargers", ":material/electrical_services:", "chargers"),
    PageEntry("app_pages/emissions.py", "Emissions", ":material/eco:", "emissions"),
    PageEntry("app_pages/lease_economics.py", "Lease economics", ":material/payments:", "economics"),
    PageEntry("app_pages/nightly_jobs.py", "Nightly jobs", ":material/schedule:", "jobs"),
    PageEntry("app_pages/trends.py", "Trends", ":material/trending_up:", "trends"),
    PageEntry("app_pages/change_log.py", "Change log", ":material/history:", "changes"),
)
