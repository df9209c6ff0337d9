"""The app's server process: import what the pages import, then start Streamlit (`evfleet app` runs this).

Streamlit runs every page script inside the server process, so a module imported once serves every later run.
Without this, the first visitor after a start paid the imports (Streamlit's widgets, pandas, SQLModel's tables,
the services, the solvers' modules): 3.5 s of a 29 M-row Overview's first render against 1.1-1.7 s for the same
render once imported (docs/scale.md). Here the server pays them before it listens.

The modules are read from the pages' own import statements (`ast`, without running the scripts: a page calls
Streamlit at module level), so a page that gains an import is warmed without a list to keep.
"""

from __future__ import annotations

import ast
import importlib
import logging
import sys
import time
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent
ENTRY = APP_DIR.parent / "streamlit_app.py"


def page_imports(files: list[Path] | None = None) -> list[str]:
    """The absolute modules imported anywhere in the entry script and the page files, in first-seen order.

    `from a.b import c` gives `a.b` (c may be a name, not a module); relative imports are left out."""
    if files is None:
        files = [ENTRY, *sorted(APP_DIR.glob("*.py"))]
    seen: dict[str, None] = {}
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    seen.setdefault(alias.name, None)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                seen.setdefault(node.module, None)
    return [m for m in seen if m != "streamlit_app" and m != __name__]


def warm(modules: list[str] | None = None) -> float:
    """Import `modules` (default: `page_imports()`); seconds taken. A module that fails to import is left for
    the page to report, as it would have been without the warm-up."""
    # `st.cache_data` checks its parameters when a module defines a cached function and, before the server
    # exists, logs that it found no runtime; the caches themselves are made at the first call, in the runtime.
    quiet = logging.getLogger("streamlit.runtime.caching.cache_data_api")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    t0 = time.perf_counter()
    try:
        for name in page_imports() if modules is None else modules:
            try:
                importlib.import_module(name)
            except Exception:  # the page shows the error in context, as without the warm-up
                continue
    finally:
        quiet.setLevel(level)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    """`python -m app_pages._server run streamlit_app.py [streamlit options]`: warm, then Streamlit's own CLI."""
    from streamlit.web import cli

    args = sys.argv[1:] if argv is None else argv
    seconds = warm()
    print(f"evfleet app: page modules imported in {seconds:.2f} s", flush=True)
    cli.main(args=args, prog_name="streamlit")


if __name__ == "__main__":
    main()
