"""lease: the lessor's costs, who bears them, loan covenants and the carbon scheme

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RATE = sa.Numeric(12, 4, asdecimal=True)
COLUMNS = (
    ("insurance_by_lessor", sa.Boolean()),
    ("tyres_by_lessor", sa.Boolean()),
    ("telematics_by_lessor", sa.Boolean()),
    ("insurance_fen_per_month", sa.Integer()),
    ("maintenance_cny_per_km", _RATE),
    ("maintenance_fixed_fen_per_month", sa.Integer()),
    ("tyres_cny_per_km", _RATE),
    ("telematics_fen_per_month", sa.Integer()),
    ("battery_reserve_cny_per_kwh", _RATE),
    ("overhead_fen_per_month", sa.Integer()),
    ("bad_debt_share", sa.Numeric(6, 4, asdecimal=True)),
    ("dscr_covenant", sa.Numeric(6, 3, asdecimal=True)),
    ("llcr_covenant", sa.Numeric(6, 3, asdecimal=True)),
    ("carbon_scheme", sqlmodel.sql.sqltypes.AutoString(length=120)),
    ("carbon_price_source", sqlmodel.sql.sqltypes.AutoString(length=200)),
    ("carbon_price_cny_per_t", _RATE),
)


def upgrade() -> None:
    with op.batch_alter_table("lease", schema=None) as batch_op:
        for name, type_ in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lease", schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
