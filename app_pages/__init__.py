"""The app's pages, one module each; `PAGES` is the navigation list `streamlit_app.py` builds from.

A new page is one new module here plus one `PageEntry` line below; docs/app.md lists what each page calls in the
packages (through `fleet.services`, one module per page).
"""

from __future__ import annotations

from dataclasses import dataclass

from fleet.services.i18n import N_


@dataclass(frozen=True)
class PageEntry:
    path: str  # relative to the repository root (where streamlit_app.py lives)
    title: str  # an English msgid: the entry script shows it translated
    icon: str
    url_path: str
    default: bool = False


PAGES: tuple[PageEntry, ...] = (
    PageEntry("app_pages/overview.py", N_("Overview"), ":material/dashboard:", "overview", default=True),
    PageEntry("app_pages/fleet_leases.py", N_("Fleet & leases"), ":material/local_shipping:", "fleet"),
    PageEntry("app_pages/route_planner.py", N_("Route planner"), ":material/route:", "routes"),
    PageEntry("app_pages/charging.py", N_("Charging"), ":material/ev_station:", "charging"),
    PageEntry("app_pages/chargers.py", N_("Chargers"), ":material/electrical_services:", "chargers"),
    PageEntry("app_pages/vpp.py", N_("VPP"), ":material/bolt:", "vpp"),
    PageEntry("app_pages/emissions.py", N_("Emissions"), ":material/eco:", "emissions"),
    PageEntry("app_pages/lease_economics.py", N_("Lease economics"), ":material/payments:", "economics"),
    PageEntry("app_pages/nightly_jobs.py", N_("Nightly jobs"), ":material/schedule:", "jobs"),
    PageEntry("app_pages/trends.py", N_("Trends"), ":material/trending_up:", "trends"),
    PageEntry("app_pages/change_log.py", N_("Change log"), ":material/history:", "changes"),
)
