"""depots choose time-dependent travel, driver breaks, trips and reload minutes; lessor-wide access zones; route
plans record the routing settings they used

Revision ID: 0018
Revises: 0015 (chain at merge: 0012 -> 0017 -> 0016 -> 0015 -> 0018)
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fleet.models

revision: str = "0018"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy of the referenced `depot`, see 0003). Server defaults give existing depots the
    # model's defaults: no speed profile, no breaks, one trip: plans as before (docs/realism.md).
    op.add_column(
        "depot", sa.Column("routing_speed_profile", sa.String(40), nullable=False, server_default="none")
    )
    op.add_column(
        "depot", sa.Column("routing_driver_breaks", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("depot", sa.Column("routing_max_trips", sa.Integer(), nullable=False, server_default="1"))
    op.add_column(
        "depot", sa.Column("routing_reload_minutes", sa.Float(), nullable=False, server_default="30")
    )
    # Nullable, no default: plans stored before this revision used none of these settings.
    op.add_column("routeplan", sa.Column("routing_settings", sa.JSON(), nullable=True))
    op.create_table(
        "accesszone",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("lessor_id", sa.Integer(), sa.ForeignKey("lessor.id"), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("polygon", sa.JSON(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("updated_at", fleet.models.TZDateTime(), nullable=True),
        sa.UniqueConstraint("lessor_id", "name", name="uq_accesszone_lessor_name"),
    )
    op.create_index("ix_accesszone_lessor_id", "accesszone", ["lessor_id"])


def downgrade() -> None:
    op.drop_index("ix_accesszone_lessor_id", "accesszone")
    op.drop_table("accesszone")
    op.drop_column("routeplan", "routing_settings")
    # SQLite >= 3.35 drops a column in place (as in 0003).
    for name in (
        "routing_reload_minutes",
        "routing_max_trips",
        "routing_driver_breaks",
        "routing_speed_profile",
    ):
        op.drop_column("depot", name)
