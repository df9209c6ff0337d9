"""audit events: who changed a rent, a vehicle's status, a depot's billing or a plan, when, and what

Revision ID: 0014
Revises: 0009
Create Date: 2026-12-05 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fleet.models

revision: str = "0014"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auditevent",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("lessor_id", sa.Integer(), sa.ForeignKey("lessor.id"), nullable=False),
        sa.Column("lessee_id", sa.Integer(), sa.ForeignKey("lessee.id"), nullable=True),
        sa.Column("at", fleet.models.TZDateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_key", sa.String(120), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False, server_default=""),
    )
    for column in ("lessor_id", "lessee_id", "entity", "entity_key"):
        op.create_index(f"ix_auditevent_{column}", "auditevent", [column])


def downgrade() -> None:
    for column in ("entity_key", "entity", "lessee_id", "lessor_id"):
        op.drop_index(f"ix_auditevent_{column}", "auditevent")
    op.drop_table("auditevent")
