"""csms: deviation alerts and each connector's live state

Revision ID: 0010
Revises: 0014
Create Date: 2026-12-05 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fleet.models import TZDateTime

revision: str = "0010"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chargingalert",
        sa.Column("lessor_id", sa.Integer(), sa.ForeignKey("lessor.id"), nullable=False),
        sa.Column("lessee_id", sa.Integer(), sa.ForeignKey("lessee.id"), nullable=True),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("depot_id", sa.Integer(), sa.ForeignKey("depot.id"), nullable=False),
        sa.Column("connector_id", sa.Integer(), sa.ForeignKey("connector.id"), nullable=True),
        sa.Column("vehicle_id", sa.Integer(), sa.ForeignKey("vehicle.id"), nullable=True),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("readiness_at_risk", sa.Boolean(), nullable=False),
        sa.Column("raised_at", TZDateTime(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    for col in ("lessor_id", "lessee_id", "depot_id", "service_date"):
        op.create_index(f"ix_chargingalert_{col}", "chargingalert", [col])
    op.create_table(
        "connectorlivestate",
        sa.Column("lessor_id", sa.Integer(), sa.ForeignKey("lessor.id"), nullable=False),
        sa.Column("lessee_id", sa.Integer(), sa.ForeignKey("lessee.id"), nullable=True),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("depot_id", sa.Integer(), sa.ForeignKey("depot.id"), nullable=False),
        sa.Column("connector_id", sa.Integer(), sa.ForeignKey("connector.id"), nullable=False, unique=True),
        sa.Column("charger_id", sa.String(length=80), nullable=False),
        sa.Column("protocol", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), sa.ForeignKey("vehicle.id"), nullable=True),
        sa.Column("transaction_id", sa.String(length=60), nullable=True),
        sa.Column("power_kw", sa.Float(), nullable=True),
        sa.Column("session_kwh", sa.Float(), nullable=False),
        sa.Column("profile_status", sa.String(length=30), nullable=False),
        sa.Column("readback", sa.String(length=20), nullable=False),
        sa.Column("last_seen_at", TZDateTime(), nullable=True),
        sa.Column("updated_at", TZDateTime(), nullable=True),
    )
    for col in ("lessor_id", "lessee_id", "depot_id"):
        op.create_index(f"ix_connectorlivestate_{col}", "connectorlivestate", [col])


def downgrade() -> None:
    op.drop_table("connectorlivestate")
    op.drop_table("chargingalert")
