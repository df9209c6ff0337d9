"""vehicledaymonth: the metered days summed per vehicle, lessee and month for the lessor's views (issue 24)

A derived table (no foreign keys; rebuilt whole by `fleet.emissions.monthly.refresh`) and, on PostgreSQL, a
sequence that a statement trigger advances on every write to `vehicleday`: the summary is used only while the
mark it was built at is still the sequence's value, so a write it does not hold can never be shown from it.
Likewise the lessor's emissions table per year and profile (`emissionstablecache`), against a second sequence
advanced by every write to any of its input tables.

Revision ID: 0016
Revises: 0017 (asked for on 0012; main added 0017 on 0012 meanwhile, so this branch follows it to keep one head)
Create Date: 2026-12-05 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fleet.models

revision: str = "0016"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQUENCE = "vehicleday_write_mark"
INPUT_SEQUENCE = "emissions_input_mark"
# Every table the lessor's emissions table is computed from (fleet.emissions.monthly.lessor_table).
INPUT_TABLES = (
    "vehicleday",
    "lease",
    "vehicle",
    "connector",
    "vehiclemodel",
    "chargingsession",
    "lessee",
    "depot",
    "emissionfactor",
)


def upgrade() -> None:
    op.create_table(
        "vehicledaymonth",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("lessor_id", sa.Integer(), nullable=False),
        sa.Column("lessee_id", sa.Integer(), nullable=True),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("n_rows", sa.Integer(), nullable=False),
        sa.Column("n_days", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("km", sa.Float(), nullable=False),
        sa.Column("kwh_charger", sa.Float(), nullable=False),
        sa.Column("kwh_vehicle_only", sa.Float(), nullable=False),
        sa.Column("n_vehicle_only", sa.Integer(), nullable=False),
        sa.Column("n_charger_null", sa.Integer(), nullable=False),
        sa.Column("tonne_km", sa.Float(), nullable=False),
        sa.Column("diesel_litres", sa.Float(), nullable=False),
        sa.Column("n_diesel", sa.Integer(), nullable=False),
        sa.Column("n_suspect", sa.Integer(), nullable=False),
        sa.Column("max_kwh_vehicle", sa.Float(), nullable=True),
        sa.Column("max_kwh_charger_only", sa.Float(), nullable=True),
    )
    op.create_index("ix_vehicledaymonth_lessor_id", "vehicledaymonth", ["lessor_id"])
    op.create_index("ix_vehicledaymonth_vehicle_id", "vehicledaymonth", ["vehicle_id"])
    op.create_index("ix_vehicledaymonth_lessee_year_month", "vehicledaymonth", ["lessee_id", "year", "month"])
    op.create_table(
        "vehicledaymonthstate",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("write_mark", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", fleet.models.TZDateTime(timezone=True), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
    )
    op.create_table(
        "emissionstablecache",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("lessor_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("input_mark", sa.Integer(), nullable=False),
        sa.Column("built_at", fleet.models.TZDateTime(timezone=True), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.UniqueConstraint("lessor_id", "year", "profile_id", name="uq_emissionstablecache_key"),
    )
    op.create_index("ix_emissionstablecache_lessor_id", "emissionstablecache", ["lessor_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE SEQUENCE {INPUT_SEQUENCE}")
        op.execute(
            "CREATE FUNCTION emissions_mark_input() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN PERFORM nextval('{INPUT_SEQUENCE}'); RETURN NULL; END $$"
        )
        for table in INPUT_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_mark_input AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION emissions_mark_input()"
            )
        op.execute(f"CREATE SEQUENCE {SEQUENCE}")
        op.execute(
            "CREATE FUNCTION vehicleday_mark_write() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN PERFORM nextval('{SEQUENCE}'); RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER vehicleday_mark_write AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON vehicleday "
            "FOR EACH STATEMENT EXECUTE FUNCTION vehicleday_mark_write()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in INPUT_TABLES:
            op.execute(f"DROP TRIGGER {table}_mark_input ON {table}")
        op.execute("DROP FUNCTION emissions_mark_input()")
        op.execute(f"DROP SEQUENCE {INPUT_SEQUENCE}")
        op.execute("DROP TRIGGER vehicleday_mark_write ON vehicleday")
        op.execute("DROP FUNCTION vehicleday_mark_write()")
        op.execute(f"DROP SEQUENCE {SEQUENCE}")
    op.drop_index("ix_emissionstablecache_lessor_id", table_name="emissionstablecache")
    op.drop_table("emissionstablecache")
    op.drop_table("vehicledaymonthstate")
    op.drop_index("ix_vehicledaymonth_lessee_year_month", table_name="vehicledaymonth")
    op.drop_index("ix_vehicledaymonth_vehicle_id", table_name="vehicledaymonth")
    op.drop_index("ix_vehicledaymonth_lessor_id", table_name="vehicledaymonth")
    op.drop_table("vehicledaymonth")
