"""depots say how their electricity is billed (two-part basis, contract, 2030 charging exemption) and what
schedules their chargers can run (power changes a night, minimum power)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 17:30:00

Existing depots keep today's behaviour: two-part on maximum demand at their tariff's rate, no contract, no
exemption (chargers behind the site meter).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fleet.models

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    "tariff_structure",
    "demand_basis",
    "contracted_demand_kw",
    "transformer_kva",
    "capacity_rate_cny_per_kva_month",
    "centralised_charging_facility",
    "charging_metered_separately",
    "charging_max_power_changes",
    "charging_min_kw",
    "base_load_kw",
)


def upgrade() -> None:
    # Plain ADD COLUMN, no batch copy: SQLite adds a NOT NULL column with a default in place, while a batch
    # copy-and-rename of `depot` fails on a populated database whose connectors and plans reference it.
    op.add_column(
        "depot",
        sa.Column(
            "tariff_structure",
            sa.Enum("single_part", "two_part", name="tariffstructure", native_enum=False, length=30),
            nullable=False,
            server_default="two_part",
        ),
    )
    op.add_column(
        "depot",
        sa.Column(
            "demand_basis",
            sa.Enum("capacity", "maximum_demand", name="demandbasis", native_enum=False, length=30),
            nullable=False,
            server_default="maximum_demand",
        ),
    )
    op.add_column("depot", sa.Column("contracted_demand_kw", sa.Float(), nullable=True))
    op.add_column("depot", sa.Column("transformer_kva", sa.Float(), nullable=True))
    op.add_column(
        "depot",
        sa.Column("capacity_rate_cny_per_kva_month", sa.Numeric(precision=12, scale=4), nullable=True),
    )
    op.add_column(
        "depot",
        sa.Column("centralised_charging_facility", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "depot",
        sa.Column("charging_metered_separately", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    # Operable schedules (a charger is not asked to pulse): at most 4 power changes a night, at least 5 kW while on.
    op.add_column(
        "depot", sa.Column("charging_max_power_changes", sa.Integer(), nullable=True, server_default="4")
    )
    op.add_column("depot", sa.Column("charging_min_kw", sa.Float(), nullable=True, server_default="5.0"))
    op.add_column("depot", sa.Column("base_load_kw", sa.JSON(), nullable=True))
    op.create_table(
        "sitemeterreading",
        sa.Column("lessor_id", sa.Integer(), nullable=False),
        sa.Column("lessee_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("depot_id", sa.Integer(), nullable=False),
        sa.Column("interval_start", fleet.models.TZDateTime(), nullable=False),
        sa.Column("kw", sa.Float(), nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["depot_id"], ["depot.id"]),
        sa.ForeignKeyConstraint(["import_batch_id"], ["importbatch.id"]),
        sa.ForeignKeyConstraint(["lessee_id"], ["lessee.id"]),
        sa.ForeignKeyConstraint(["lessor_id"], ["lessor.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("depot_id", "interval_start", name="uq_sitemeterreading_interval"),
    )
    for column in ("depot_id", "lessee_id", "lessor_id"):
        op.create_index(f"ix_sitemeterreading_{column}", "sitemeterreading", [column], unique=False)


def downgrade() -> None:
    for column in ("depot_id", "lessee_id", "lessor_id"):
        op.drop_index(f"ix_sitemeterreading_{column}", table_name="sitemeterreading")
    op.drop_table("sitemeterreading")
    # SQLite >= 3.35 drops a column in place; the batch copy is only needed where it cannot.
    for column in reversed(COLUMNS):
        op.drop_column("depot", column)
