"""The console script lists its commands."""

from typer.testing import CliRunner

from fleet.cli.main import app


def test_help_lists_bench_group() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    assert "bench" in result.output
