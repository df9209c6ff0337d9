"""Keeping the catalogues in step with the code: extract the msgids the code uses, merge them into the `.po`
files, and report what is missing or untranslated (the test and `python -m fleet.i18n.catalogue` share this).

    python -m fleet.i18n.catalogue update   # extract from the code, add new msgids to en and zh_CN, drop none
    python -m fleet.i18n.catalogue check    # exit 1 when a msgid is missing from a catalogue or zh_CN is empty

The same as `pybabel extract -F fleet/i18n/babel.cfg -k N_ ...` followed by `pybabel update`, without the
command-line plumbing; obsolete entries are kept (marked `#~`) so a translation is never lost by a rename.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fleet.i18n import DOMAIN, LOCALE_DIR, LOCALES, catalogue_path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("app_pages", "fleet", "streamlit_app.py")  # relative to the repository root
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def extract_msgids(root: Path = ROOT) -> dict[str, list[str]]:
    """{msgid: ["path:line", ...]} for every `_()`, `N_()` and `ngettext()` call with a literal argument."""
    from babel.messages.extract import extract_from_dir, extract_from_file

    found: dict[str, list[str]] = {}

    def add(path: str, line: int, message: str | tuple[str, ...]) -> None:
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault(msgid, []).append(f"{path}:{line}")

    for source in SOURCES:
        target = root / source
        if target.is_dir():
            for filename, line, message, _comments, _context in extract_from_dir(
                target, method_map=[("**.py", "python")], keywords=KEYWORDS
            ):
                add(f"{source}/{filename}", line, message)
        elif target.is_file():
            for line, message, _comments, _context in extract_from_file("python", target, keywords=KEYWORDS):
                add(source, line, message)
    return found


def read_catalogue(locale: str):  # type: ignore[no-untyped-def]
    from babel.messages.pofile import read_po

    with catalogue_path(locale).open("rb") as fh:
        return read_po(fh, locale=locale, domain=DOMAIN)


def problems(root: Path = ROOT) -> list[str]:
    """Missing msgids per catalogue and empty zh_CN translations (English is the source language: empty there
    means "as the msgid")."""
    used = extract_msgids(root)
    out = []
    for locale in LOCALES:
        catalogue = read_catalogue(locale)
        for msgid, where in sorted(used.items()):
            message = catalogue.get(msgid)
            if message is None:
                out.append(f"{locale}: missing msgid {msgid!r} (used at {where[0]})")
            elif locale != "en" and not message.string:
                out.append(f"{locale}: empty translation of {msgid!r} (used at {where[0]})")
    return out


def update(root: Path = ROOT) -> None:
    """Add every msgid the code uses to each catalogue (new ones empty, English ones as themselves)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    template = Catalog(domain=DOMAIN, project="evfleet", charset="utf-8")
    for msgid in sorted(extract_msgids(root)):
        template.add(msgid)
    for locale in LOCALES:
        path = catalogue_path(locale)
        if path.is_file():
            catalogue = read_catalogue(locale)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalogue = Catalog(locale=locale, domain=DOMAIN, project="evfleet", charset="utf-8")
        catalogue.update(template, no_fuzzy_matching=True)
        catalogue.fuzzy = False  # the header is maintained, not a draft
        with path.open("wb") as fh:
            write_po(fh, catalogue, sort_output=True, omit_header=False, ignore_obsolete=False, width=110)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        update()
        print(f"updated {', '.join(LOCALES)} under {LOCALE_DIR}")
    found = problems()
    for line in found:
        print(line)
    return 1 if found and command == "check" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
