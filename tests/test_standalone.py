"""The installed package stands alone: its code never cites files of the `shared/` folder beside the repository.

Docstrings, comments and messages cite the literature or a file under `docs/` or `data/reference/` instead. The
benchmark-folder lookup (`$EVFLEET_BENCH_DIR` or a sibling `shared/bench` checkout) is behaviour, not a citation,
and matches neither pattern.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("../shared/", "shared/reference")

# charging/tariff.py's module docstring describes where the shipped tariff file comes from; it is rewritten together
# with the move of `data/` (issue 17, another part). Only that docstring is exempt, not the rest of the file.
DOCSTRING_EXEMPT = {"charging/tariff.py"}


def _sources() -> list[Path]:
    return sorted(p for lib in ("routing", "charging", "fleet") for p in (ROOT / lib).rglob("*.py"))


def _text_to_check(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if path.relative_to(ROOT).as_posix() in DOCSTRING_EXEMPT:
        doc = ast.get_docstring(ast.parse(text), clean=False)
        if doc:
            text = text.replace(doc, "", 1)
    return text


def test_no_citation_of_the_shared_folder() -> None:
    hits = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in _sources()
        for line in _text_to_check(path).splitlines()
        if any(f in line for f in FORBIDDEN)
    ]
    assert not hits, "cite the literature or docs/ instead of the shared/ folder:\n" + "\n".join(hits)
