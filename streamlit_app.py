"""evfleet planner and lessor app: `streamlit run streamlit_app.py`.

The entry script is only a frame: page config, navigation built from `app_pages.PAGES`, and the sidebar scope
(`app_pages._shell.prepare_context`). It defines no table models (it re-runs on every interaction and
SQLAlchemy refuses to redefine tables); pages live in `app_pages/` and call `fleet.services`.
"""

import streamlit as st

from app_pages import PAGES
from app_pages._shell import prepare_context

st.set_page_config(page_title="evfleet", page_icon=":material/ev_station:", layout="wide")
navigation = st.navigation(
    [st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path, default=p.default) for p in PAGES]
)
prepare_context()
navigation.run()
