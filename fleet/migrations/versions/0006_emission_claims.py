"""emission claims: one claimant per (vehicle, day, scheme), written with the submission package

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fleet.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "emissionclaim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lessor_id", sa.Integer(), nullable=False),
        sa.Column("lessee_id", sa.Integer(), nullable=True),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("scheme", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("report_id", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("claimant_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("package", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("claimed_at", fleet.models.TZDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["lessee_id"], ["lessee.id"]),
        sa.ForeignKeyConstraint(["lessor_id"], ["lessor.id"]),
        sa.ForeignKeyConstraint(["vehicle_id"], ["vehicle.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("vehicle_id", "day", "scheme", name="uq_emissionclaim_vehicle_day_scheme"),
    )
    with op.batch_alter_table("emissionclaim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emissionclaim_lessor_id"), ["lessor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_emissionclaim_report_id"), ["report_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("emissionclaim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emissionclaim_report_id"))
        batch_op.drop_index(batch_op.f("ix_emissionclaim_lessor_id"))
    op.drop_table("emissionclaim")
