"""route plans record the road network that produced their travel matrices (haversine, an OSM extract, OSRM, Valhalla)

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-05 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: plans stored before this revision did not record it (all of them used haversine).
    op.add_column("routeplan", sa.Column("road_network", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("routeplan", "road_network")
