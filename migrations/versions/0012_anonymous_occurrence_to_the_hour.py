"""report: an anonymous report keeps when it happened to the hour only

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 09:45:00

The report form used to fill in the current minute, which a hurried reporter
left as it was: the occurrence of an anonymous report then gave away the time
it was sent, which the anonymity rule does not keep. New anonymous reports keep
the hour only (Report.occurrence_for); this cuts the existing ones the same way.
The minutes are gone for good, so the downgrade leaves the rows as they are.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

report = sa.table('report', sa.column('occurred_at', sa.DateTime()),
                  sa.column('reporter_id', sa.Integer()))


def _to_the_hour(dialect: str) -> sa.ColumnElement:
    if dialect == 'postgresql':
        return sa.func.date_trunc('hour', report.c.occurred_at)
    # SQLite keeps a datetime as text in SQLAlchemy's format, microseconds included.
    return sa.func.strftime('%Y-%m-%d %H:00:00.000000', report.c.occurred_at)


def upgrade():
    hour = _to_the_hour(op.get_bind().dialect.name)
    op.execute(sa.update(report).where(report.c.reporter_id.is_(None))
               .values(occurred_at=hour))


def downgrade():
    pass
