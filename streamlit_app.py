"""evfleet planner and lessor app: `streamlit run streamlit_app.py`.

The entry script is only a frame: page config, the language (`app_pages._shell.choose_locale`), navigation built
from `app_pages.PAGES`, and the sidebar scope
(`app_pages._shell.prepare_context`). It defines no table models (it re-runs on every interaction and
SQLAlchemy refuses to redefine tables); pages live in `app_pages/` and call `fleet.services`.
"""

import streamlit as st

from app_pages import PAGES
from app_pages._shell import choose_locale, prepare_context
from fleet.services.i18n import _

st.set_page_config(page_title="evfleet", page_icon=":material/ev_station:", layout="wide")
choose_locale()  # before anything with words: the page titles below are translated
navigation = st.navigation(
    [st.Page(p.path, title=_(p.title), icon=p.icon, url_path=p.url_path, default=p.default) for p in PAGES]
)
prepare_context()
navigation.run()
