"""telematics frames and days (GB/T 32960), API keys and idempotency records

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fleet.models import TZDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telematicsframe",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("received_at", TZDateTime(), nullable=True),
        sa.Column("vin", sa.String(length=17), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), sa.ForeignKey("vehicle.id"), nullable=True),
        sa.Column("lessor_id", sa.Integer(), sa.ForeignKey("lessor.id"), nullable=True),
        sa.Column("lessee_id", sa.Integer(), sa.ForeignKey("lessee.id"), nullable=True),
        sa.Column("version", sa.String(length=4), nullable=False),
        sa.Column("command", sa.Integer(), nullable=True),
        sa.Column("collected_at", TZDateTime(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_telematicsframe_vin", "telematicsframe", ["vin"])
    op.create_index("ix_telematicsframe_vehicle_time", "telematicsframe", ["vehicle_id", "collected_at"])
    op.create_table(
        "telematicsday",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("lessor_id", sa.Integer(), sa.ForeignKey("lessor.id"), nullable=False),
        sa.Column("lessee_id", sa.Integer(), sa.ForeignKey("lessee.id"), nullable=True),
        sa.Column("vehicle_id", sa.Integer(), sa.ForeignKey("vehicle.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("km", sa.Float(), nullable=False),
        sa.Column("kwh_charged", sa.Float(), nullable=False),
        sa.Column("kwh_driven", sa.Float(), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("gap_s", sa.Float(), nullable=False),
        sa.Column("soc_trace", sa.JSON(), nullable=False),
        sa.Column("vehicle_day_id", sa.Integer(), sa.ForeignKey("vehicleday.id"), nullable=True),
        sa.Column("derived_at", TZDateTime(), nullable=True),
        sa.UniqueConstraint("vehicle_id", "day", name="uq_telematicsday_vehicle_day"),
    )
    op.create_index("ix_telematicsday_lessor_id", "telematicsday", ["lessor_id"])
    op.create_index("ix_telematicsday_lessee_id", "telematicsday", ["lessee_id"])
    op.create_table(
        "apikey",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("lessor_id", sa.Integer(), sa.ForeignKey("lessor.id"), nullable=False),
        sa.Column("lessee_id", sa.Integer(), sa.ForeignKey("lessee.id"), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_sha256", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", TZDateTime(), nullable=True),
        sa.Column("revoked_at", TZDateTime(), nullable=True),
    )
    op.create_index("ix_apikey_lessor_id", "apikey", ["lessor_id"])
    op.create_index("ix_apikey_prefix", "apikey", ["prefix"])
    op.create_table(
        "idempotencyrecord",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("api_key_id", sa.Integer(), sa.ForeignKey("apikey.id"), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", TZDateTime(), nullable=True),
        sa.UniqueConstraint("api_key_id", "key", name="uq_idempotencyrecord_key"),
    )


def downgrade() -> None:
    op.drop_table("idempotencyrecord")
    op.drop_index("ix_apikey_prefix", table_name="apikey")
    op.drop_index("ix_apikey_lessor_id", table_name="apikey")
    op.drop_table("apikey")
    op.drop_index("ix_telematicsday_lessee_id", table_name="telematicsday")
    op.drop_index("ix_telematicsday_lessor_id", table_name="telematicsday")
    op.drop_table("telematicsday")
    op.drop_index("ix_telematicsframe_vehicle_time", table_name="telematicsframe")
    op.drop_index("ix_telematicsframe_vin", table_name="telematicsframe")
    op.drop_table("telematicsframe")
