"""Change log: who changed a rent, a vehicle's status, a depot's billing or a plan, when, and what (fleet.audit)."""

from __future__ import annotations

import streamlit as st

from app_pages._shell import page_context
from fleet import services
from fleet.services import audit as svc

ctx = page_context("Change log")
st.caption(
    "Every change to a lease, a vehicle or a depot's billing and every stored plan, newest first, with who made it "
    "(the signed-in user, the CLI's user or the nightly job). A lessee sees the changes to its own rows."
)
with services.unit_of_work(ctx.url) as session:
    frame = svc.audit_frame(session, ctx.lessee_code)
if frame.empty:
    st.info("No changes recorded in this scope yet.")
else:
    st.dataframe(
        frame,
        hide_index=True,
        use_container_width=True,
        column_config={"when": st.column_config.DatetimeColumn("when", format="YYYY-MM-DD HH:mm")},
    )
