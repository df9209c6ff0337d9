"""The route planner's map tab body: basemap choice, the map fitted to every stop, a legend per truck.

One call from the page (`show_route_map(view)`); the map itself is built by `fleet.services.route_map`."""

from __future__ import annotations

import streamlit as st

from fleet.services import route_map as svc
from fleet.services.i18n import N_, _, localised
from fleet.services.route_planner import RoutePlanView

BASEMAP_LABELS = {
    "none": N_("No basemap (offline)"),
    "osm": N_("OpenStreetMap"),
    "amap": N_("AMap (Gaode), GCJ-02"),
}


@st.cache_data(ttl=300, show_spinner=False)
def _deployment_basemap() -> tuple[str, str, str | None]:
    """(basemap, tile URL template, problem): EVFLEET_BASEMAP and EVFLEET_BASEMAP_URL; "none" when unreadable."""
    try:
        return svc.basemap_setting(), svc.tile_url_setting(), None
    except ValueError as exc:
        return "none", "", str(exc)


def show_route_map(view: RoutePlanView, customers: dict[str, str] | None = None, key: str = "routes") -> None:
    default, tile_url, problem = _deployment_basemap()
    if problem:
        st.warning(problem)
    basemap = st.selectbox(
        _("Basemap"),
        svc.BASEMAPS,
        index=svc.BASEMAPS.index(default),
        format_func={b: _(label) for b, label in BASEMAP_LABELS.items()}.get,  # translated now, in this run
        key=f"{key}_basemap",
        help=_(
            "Deployment default: EVFLEET_BASEMAP. AMap tiles are drawn in GCJ-02: the routes are shifted "
            "to match them."
        ),
    )
    drawn = svc.route_map(view, basemap, customers, tile_url=tile_url)
    left, right = st.columns([4, 1])
    with left:
        st.pydeck_chart(drawn.deck, height=svc.MAP_HEIGHT_PX, key=f"{key}_map")
    with right:
        st.markdown(_("**Trucks**"))
        legend = localised(drawn.legend, svc.LEGEND_COLUMNS)
        colour = _("Colour")
        st.dataframe(
            legend.style.apply(
                lambda col: (
                    [f"background-color: {c}; color: {c}" for c in col]
                    if col.name == colour
                    else [""] * len(col)
                )
            ),
            hide_index=True,
            height=min(38 + 35 * max(len(legend), 1), svc.MAP_HEIGHT_PX),  # every truck without scrolling
            key=f"{key}_legend",
        )
    note = _(
        "Each route in its own colour; black ringed dot: the depot's charging station; red: unserved jobs."
    )
    if drawn.attribution:
        note += " " + _("Map tiles: {attribution}.").format(attribution=drawn.attribution)
    else:
        note += " " + _("No basemap (map tiles need the internet).")
    st.caption(note)
