"""plan versions: author, reason, origin and publication of a route plan; updated_at for stale-plan warnings

Revision ID: 0008
Revises: 0011
Create Date: 2026-12-05 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fleet.models

revision: str = "0008"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tables whose changes after a plan was made make it stale (docs/plan-versions.md). Existing rows keep NULL:
# when they last changed is not known, so they never raise a warning on their own.
STAMPED = ("tariff", "depot", "powergroup", "connector", "vehicle", "order")
PLAN_COLUMNS = ("author", "reason", "origin", "based_on_version", "published_at", "published_by")


def upgrade() -> None:
    for table in STAMPED:
        op.add_column(table, sa.Column("updated_at", fleet.models.TZDateTime(timezone=True), nullable=True))
    # Plain ADD COLUMN with a default: SQLite adds a NOT NULL column in place (see 0003).
    op.add_column(
        "routeplan",
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False, server_default=""),
    )
    op.add_column(
        "routeplan",
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False, server_default=""),
    )
    op.add_column(
        "routeplan",
        sa.Column("origin", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default=""),
    )
    op.add_column("routeplan", sa.Column("based_on_version", sa.Integer(), nullable=True))
    op.add_column(
        "routeplan", sa.Column("published_at", fleet.models.TZDateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "routeplan", sa.Column("published_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True)
    )
    # Versions published before this migration: their publication time is their creation time.
    op.execute("UPDATE routeplan SET published_at = created_at WHERE status = 'current'")


def downgrade() -> None:
    for column in reversed(PLAN_COLUMNS):
        op.drop_column("routeplan", column)
    for table in reversed(STAMPED):
        op.drop_column(table, "updated_at")
