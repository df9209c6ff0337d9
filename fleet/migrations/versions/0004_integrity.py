"""integrity: unique file per owner, one current plan, scenario namespaces, job heartbeat

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 09:00:00

Existing databases may already hold what the new constraints forbid (the races they close were real: the
same file imported twice at once, two nightly runs leaving two current plans). The upgrade checks first and
stops with a message naming the rows and what to do, instead of a raw IntegrityError half-way.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fleet.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


class IntegrityMigrationBlocked(RuntimeError):
    """Existing rows violate a constraint this revision adds; the message says which and how to fix them."""


def _duplicates(sql: str) -> list[tuple]:
    return [tuple(r) for r in op.get_bind().execute(sa.text(sql)).fetchall()]


def _precheck() -> None:
    problems: list[str] = []
    for owner, where in (("lessee_id", "lessee_id IS NOT NULL"), ("lessor_id", "lessee_id IS NULL")):
        for row in _duplicates(
            f"SELECT {owner}, kind, sha256, COUNT(*) FROM importbatch WHERE {where} "
            f"GROUP BY {owner}, kind, sha256 HAVING COUNT(*) > 1"
        ):
            ids = [
                r[0]
                for r in _duplicates(
                    f"SELECT id FROM importbatch WHERE {where} AND {owner} = {int(row[0])} "
                    f"AND kind = '{row[1]}' AND sha256 = '{row[2]}' ORDER BY id"
                )
            ]
            problems.append(
                f"- the same {row[1]} file (sha256 {row[2][:12]}...) was imported {row[3]} times by "
                f"{owner} {row[0]}: import batches {ids}. Keep batch {ids[0]}; delete the rows of the later "
                f"batches (vehicleday / chargingsession with import_batch_id in {ids[1:]}) and those "
                "importbatch rows."
            )
    for table in ("routeplan", "chargingplan"):
        for depot_id, day, n in _duplicates(
            f"SELECT depot_id, service_date, COUNT(*) FROM {table} WHERE status = 'current' "
            "GROUP BY depot_id, service_date HAVING COUNT(*) > 1"
        ):
            problems.append(
                f"- {table}: {n} current versions for depot {depot_id} on {day}. Keep the highest version "
                f"current: UPDATE {table} SET status = 'superseded' WHERE depot_id = {depot_id} AND "
                f"service_date = '{day}' AND status = 'current' AND version < (SELECT MAX(version) FROM "
                f"{table} WHERE depot_id = {depot_id} AND service_date = '{day}' AND status = 'current')"
            )
    if problems:
        raise IntegrityMigrationBlocked(
            "revision 0004 adds unique constraints that existing rows violate; nothing was changed.\n"
            + "\n".join(problems)
            + "\nFix these rows (back up the database first), then run `evfleet db upgrade` again."
        )


def _scenario_table(unique: Any, *extra: Any) -> sa.Table:
    """financescenario's full shape for SQLite's copy-and-rename (its old unique constraint has no name)."""
    return sa.Table(
        "financescenario",
        sa.MetaData(),
        sa.Column("lessor_id", sa.Integer(), sa.ForeignKey("lessor.id"), nullable=False),
        sa.Column("lessee_id", sa.Integer(), sa.ForeignKey("lessee.id"), nullable=True),
        sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", fleet.models.TZDateTime(timezone=True), nullable=True),
        unique,
        *extra,
    )


def upgrade() -> None:
    _precheck()
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    lessor_rows = sa.text("lessee_id IS NULL")
    current = sa.text("status = 'current'")

    with op.batch_alter_table("importbatch", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_importbatch_lessee_file", ["lessee_id", "kind", "sha256"])
    op.create_index(
        "uq_importbatch_lessor_file",
        "importbatch",
        ["lessor_id", "kind", "sha256"],
        unique=True,
        sqlite_where=lessor_rows,
        postgresql_where=lessor_rows,
    )
    for table in ("routeplan", "chargingplan"):
        op.create_index(
            f"uq_{table}_one_current",
            table,
            ["depot_id", "service_date"],
            unique=True,
            sqlite_where=current,
            postgresql_where=current,
        )
    with op.batch_alter_table("jobrun", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", fleet.models.TZDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("runner", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))

    # Scenario names: one namespace per owner instead of one per lessor.
    if sqlite:
        with op.batch_alter_table(
            "financescenario",
            recreate="always",
            copy_from=_scenario_table(
                sa.UniqueConstraint("lessor_id", "lessee_id", "name", name="uq_financescenario_owner_name"),
                sa.Index("ix_financescenario_lessee_id", "lessee_id"),
                sa.Index("ix_financescenario_lessor_id", "lessor_id"),
            ),
        ):
            pass
    else:
        for uc in sa.inspect(bind).get_unique_constraints("financescenario"):
            if sorted(uc["column_names"]) == ["lessor_id", "name"]:
                op.drop_constraint(uc["name"], "financescenario", type_="unique")
        op.create_unique_constraint(
            "uq_financescenario_owner_name", "financescenario", ["lessor_id", "lessee_id", "name"]
        )
    op.create_index(
        "uq_financescenario_lessor_name",
        "financescenario",
        ["lessor_id", "name"],
        unique=True,
        sqlite_where=lessor_rows,
        postgresql_where=lessor_rows,
    )


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index("uq_financescenario_lessor_name", table_name="financescenario")
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table(
            "financescenario",
            recreate="always",
            copy_from=_scenario_table(
                sa.UniqueConstraint("lessor_id", "name"),
                sa.Index("ix_financescenario_lessee_id", "lessee_id"),
                sa.Index("ix_financescenario_lessor_id", "lessor_id"),
            ),
        ):
            pass
    else:
        op.drop_constraint("uq_financescenario_owner_name", "financescenario", type_="unique")
        op.create_unique_constraint(None, "financescenario", ["lessor_id", "name"])
    with op.batch_alter_table("jobrun", schema=None) as batch_op:
        batch_op.drop_column("runner")
        batch_op.drop_column("heartbeat_at")
    for table in ("chargingplan", "routeplan"):
        op.drop_index(f"uq_{table}_one_current", table_name=table)
    op.drop_index("uq_importbatch_lessor_file", table_name="importbatch")
    with op.batch_alter_table("importbatch", schema=None) as batch_op:
        batch_op.drop_constraint("uq_importbatch_lessee_file", type_="unique")
