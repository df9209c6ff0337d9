"""The wheel carries everything an installed evfleet needs: the data files (as package `evfleet_data`), the
migrations, the Streamlit entry script and its pages; installed on its own it runs the nightly demo and the app.

The wheel is built as a user or CI builds it (`pip wheel .`, in build isolation: the build backend pinned in
pyproject.toml's [build-system] is fetched, whatever setuptools this environment happens to have).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CODE_FOLDERS = ("fleet", "routing", "charging", "app_pages")
DEPOTS = ("SZ-BA", "SZ-LG", "SZ-LH", "SZ-NS")


def _files(*folders: str) -> list[str]:
    """The checkout's files under `folders` (all if none): tracked or new, not ignored; a copy that is not a git
    checkout lists what is on disk."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", *folders],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        files = sorted({line for line in out.splitlines() if line})
    except (OSError, subprocess.CalledProcessError):
        roots = [REPO / f for f in folders] or [REPO]
        files = sorted(str(p.relative_to(REPO)) for r in roots for p in r.rglob("*") if not p.is_dir())
        files = [f for f in files if not {"__pycache__", "build", ".git"} & set(Path(f).parts)]
    return [f for f in files if os.path.lexists(REPO / f)]


def _clean_source(dst: Path) -> Path:
    """A copy of the checkout's own files: setuptools reuses a `build/` folder, whose stale modules would hide a
    package missing from pyproject.toml."""
    for rel in _files():
        src, target = REPO / rel, dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            target.symlink_to(os.readlink(src))
        else:
            shutil.copy2(src, target)
    return dst


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = _clean_source(tmp_path_factory.mktemp("source"))
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--quiet", "-w", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    [found] = out.glob("evfleet-*.whl")
    return found


def test_wheel_holds_data_code_migrations_and_app(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    data_files = _files("data/demo", "data/reference")
    assert any(f.startswith("data/demo/orders/") for f in data_files)
    assert {"data/reference/tariffs.json", "data/reference/emission-factors.csv"} <= set(data_files)
    expected = {"evfleet_data/" + f.removeprefix("data/") for f in data_files}
    expected |= {"evfleet_data/__init__.py", "streamlit_app.py"}
    code = _files(
        *CODE_FOLDERS
    )  # every module, the migrations (env, mako, versions) and the finance examples
    assert "fleet/migrations/script.py.mako" in code and any(
        f.startswith("fleet/migrations/versions/") for f in code
    )
    expected |= {f for f in code if not f.endswith((".md", ".txt"))}
    missing = sorted(expected - names)
    assert not missing, f"missing from {wheel.name}: {missing}"
    assert not any(n.startswith(("data/", "tests/")) for n in names), (
        "no top-level `data` or tests in the wheel"
    )


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without PYTHONPATH (it may point at a checkout) or evfleet settings."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("EVFLEET_")}
    return {**env, "COLUMNS": "250", **extra}


PAGE_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    import app_pages
    from fleet.cli.app_cmd import entry_script

    entry = entry_script()
    assert entry.parent == Path(app_pages.__file__).parent.parent, (entry, app_pages.__file__)
    at = AppTest.from_file(str(entry), default_timeout=120).run()
    for page in app_pages.PAGES:
        if not page.default:
            at.switch_page(page.path).run()
        assert not at.exception, (page.path, [e.value for e in at.exception])
        print("rendered", page.path, "captions:", " | ".join(c.value for c in at.caption)[:200])
    """
)


@pytest.mark.slow
def test_installed_wheel_runs_nightly_demo_and_app(wheel: Path, tmp_path: Path) -> None:
    """Installed with --no-deps into a fresh venv (dependencies from the system site-packages), run elsewhere."""
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True
    )
    python, evfleet = venv / "bin" / "python", venv / "bin" / "evfleet"
    env = _clean_env(EVFLEET_DATABASE_URL=f"sqlite:///{tmp_path / 'nightly.db'}")
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stdout + install.stderr

    where = subprocess.run(
        [
            str(python),
            "-c",
            "import fleet, evfleet_data, charging; print(fleet.__file__, evfleet_data.DEMO_DIR)",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    site = venv.resolve()
    assert all(Path(p).resolve().is_relative_to(site) for p in where), f"not the installed copy: {where}"

    nightly = subprocess.run(
        [str(evfleet), "nightly", "--demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert nightly.returncode == 0, nightly.stdout + nightly.stderr
    assert "Nightly plan for" in nightly.stdout
    for depot in DEPOTS:
        assert any(
            line.split("│")[1:3] == [f" {depot} ", " succeeded "] for line in nightly.stdout.splitlines()
        ), (
            depot,
            nightly.stdout,
        )

    pages = subprocess.run(
        [str(python), "-c", PAGE_SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=540
    )
    assert pages.returncode == 0, pages.stdout + pages.stderr
    from app_pages import PAGES

    assert pages.stdout.count("rendered ") == len(PAGES), pages.stdout
    assert "Scope: **Lessor SZEL" in pages.stdout, pages.stdout
