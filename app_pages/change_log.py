"""Change log: who changed a rent, a vehicle's status, a depot's billing or a plan, when, and what (fleet.audit)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages._shell import page_context
from fleet import services
from fleet.services import audit as svc
from fleet.services.i18n import _, localised

ctx = page_context("Change log")  # msgid, translated by page_context
st.caption(
    _(
        "Every change to a lease, a vehicle or a depot's billing and every stored plan, newest first, with who "
        "made it (the signed-in user, the CLI's user or the nightly job). A lessee sees the changes to its own rows."
    )
)
with services.unit_of_work(ctx.url) as session:
    frame = svc.audit_frame(session, ctx.lessee_code)
if frame.empty:
    st.info(_("No changes recorded in this scope yet."))
else:
    frame = frame.assign(when=frame["when"].map(lambda t: "–" if pd.isna(t) else f"{t:%Y-%m-%d %H:%M}"))
    st.dataframe(localised(frame, svc.AUDIT_DISPLAY), hide_index=True, width="stretch")
