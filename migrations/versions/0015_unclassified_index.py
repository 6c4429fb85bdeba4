"""partial index of the reports waiting for classification

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 15:50:00

/metrics reports how many reports wait for the classifier and since when
(app/ops/metrics.py). This index holds only the waiting reports, by the hour they
came in, so the scrape reads a handful of entries instead of the report table.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

WAITING = sa.text("model_version_id IS NULL AND text_removed_on IS NULL")


def upgrade():
    op.create_index('ix_report_unclassified', 'report', ['submitted_hour'], unique=False,
                    postgresql_where=WAITING, sqlite_where=WAITING)


def downgrade():
    op.drop_index('ix_report_unclassified', table_name='report')
