"""depots say how their electricity is billed (two-part basis, contract, 2030 charging exemption)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 17:30:00

Existing depots keep today's behaviour: two-part on maximum demand at their tariff's rate, no contract, no
exemption (chargers behind the site meter).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("depot", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "tariff_structure",
                sa.Enum("single_part", "two_part", name="tariffstructure", native_enum=False, length=30),
                nullable=False,
                server_default="two_part",
            )
        )
        batch_op.add_column(
            sa.Column(
                "demand_basis",
                sa.Enum("capacity", "maximum_demand", name="demandbasis", native_enum=False, length=30),
                nullable=False,
                server_default="maximum_demand",
            )
        )
        batch_op.add_column(sa.Column("contracted_demand_kw", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("transformer_kva", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("capacity_rate_cny_per_kva_month", sa.Numeric(precision=12, scale=4), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "centralised_charging_facility", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column("charging_metered_separately", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("depot", schema=None) as batch_op:
        for column in (
            "charging_metered_separately",
            "centralised_charging_facility",
            "capacity_rate_cny_per_kva_month",
            "transformer_kva",
            "contracted_demand_kw",
            "demand_basis",
            "tariff_structure",
        ):
            batch_op.drop_column(column)
