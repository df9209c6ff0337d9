"""VPP: a lease's V2G consent and the lessee's share of event revenue; a depot's grid zone; vehicleday (lessee, day)

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-05 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("lease", sa.Column("v2g_consent", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("lease", sa.Column("vpp_lessee_share", sa.Numeric(6, 4, asdecimal=True), nullable=True))
    op.add_column("depot", sa.Column("grid_zone", sa.String(length=60), nullable=True))
    op.create_index("ix_vehicleday_lessee_day", "vehicleday", ["lessee_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_vehicleday_lessee_day", table_name="vehicleday")
    op.drop_column("depot", "grid_zone")
    op.drop_column("lease", "vpp_lessee_share")
    op.drop_column("lease", "v2g_consent")
