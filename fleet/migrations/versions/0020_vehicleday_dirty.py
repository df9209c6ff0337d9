"""vehicledaymonthdirty: which vehicle-months were written since the summary was refreshed (issue 24 follow-up)

Migration 0016 tells that `vehicledaymonth` and `emissionstablecache` are stale (a write mark), not what is
stale, so only a whole rebuild (280 s at 29.2 M rows) could bring them back. Here, on PostgreSQL, statement
triggers with transition tables record the (vehicle, year, month) keys of the rows each write to `vehicleday`
inserts, updates (old and new) or deletes, and a statement trigger on every other input of the lessor's emissions
table records the sentinel "tables stale". `fleet.emissions.monthly.refresh_incremental` recomputes only those
summary rows and the affected years' tables. No unique constraint: concurrent writers of the same keys must not
wait on each other (the refresh reads the keys DISTINCT and deletes them under its SHARE lock).

Sentinels (vehicle ids are positive): vehicle_id 0 = every summary row stale (TRUNCATE, or the summary was
already stale when this revision was applied); vehicle_id -1 = every cached table stale (another input written).

Revision ID: 0020
Revises: 0018 (asked for on 0016; main chains 0012 -> 0017 -> 0016 -> 0015 -> 0018 meanwhile, so this follows 0018
to keep one head)
Create Date: 2026-12-06 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OTHER_INPUTS = (
    "lease",
    "vehicle",
    "connector",
    "vehiclemodel",
    "chargingsession",
    "lessee",
    "depot",
    "emissionfactor",
)
KEYS = "SELECT DISTINCT vehicle_id, CAST(EXTRACT(year FROM day) AS integer), CAST(EXTRACT(month FROM day) AS integer) "


def upgrade() -> None:
    op.create_table(
        "vehicledaymonthdirty",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    insert = "INSERT INTO vehicledaymonthdirty (vehicle_id, year, month) "
    for event, tables in (
        ("insert", ("new_rows",)),
        ("update", ("old_rows", "new_rows")),
        ("delete", ("old_rows",)),
    ):
        body = "; ".join(f"{insert}{KEYS}FROM {t}" for t in tables)
        op.execute(
            f"CREATE FUNCTION vehicleday_dirty_{event}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {body}; RETURN NULL; END $$"
        )
        refs = " ".join(f"{'OLD' if t == 'old_rows' else 'NEW'} TABLE AS {t}" for t in tables)
        op.execute(
            f"CREATE TRIGGER vehicleday_dirty_{event} AFTER {event.upper()} ON vehicleday REFERENCING {refs} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION vehicleday_dirty_{event}()"
        )
    op.execute(
        "CREATE FUNCTION vehicleday_dirty_all() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN {insert}VALUES (0, 0, 0); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER vehicleday_dirty_truncate AFTER TRUNCATE ON vehicleday "
        "FOR EACH STATEMENT EXECUTE FUNCTION vehicleday_dirty_all()"
    )
    op.execute(
        "CREATE FUNCTION emissions_tables_dirty() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN {insert}VALUES (-1, 0, 0); RETURN NULL; END $$"
    )
    for table in OTHER_INPUTS:
        op.execute(
            f"CREATE TRIGGER {table}_tables_dirty AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION emissions_tables_dirty()"
        )
    # What was written before this revision is not recorded: mark everything stale where the summary or the
    # cache already was (the next refresh is then a whole rebuild).
    op.execute(
        f"{insert}SELECT 0, 0, 0 WHERE NOT EXISTS (SELECT 1 FROM vehicledaymonthstate s, vehicleday_write_mark m "
        "WHERE s.write_mark = CASE WHEN m.is_called THEN m.last_value ELSE 0 END)"
    )
    op.execute(
        f"{insert}SELECT -1, 0, 0 WHERE EXISTS (SELECT 1 FROM emissionstablecache c, emissions_input_mark m "
        "WHERE c.input_mark <> CASE WHEN m.is_called THEN m.last_value ELSE 0 END)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in OTHER_INPUTS:
            op.execute(f"DROP TRIGGER {table}_tables_dirty ON {table}")
        op.execute("DROP FUNCTION emissions_tables_dirty()")
        op.execute("DROP TRIGGER vehicleday_dirty_truncate ON vehicleday")
        op.execute("DROP FUNCTION vehicleday_dirty_all()")
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER vehicleday_dirty_{event} ON vehicleday")
            op.execute(f"DROP FUNCTION vehicleday_dirty_{event}()")
    op.drop_table("vehicledaymonthdirty")
