"""report: de-identified copies of the free text, and a count of identifiers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 06:05:00

Existing reports are scrubbed here, once, with ml.pii.
"""
from alembic import op
import sqlalchemy as sa

from ml.pii import scrub


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_report = sa.table(
    "report",
    sa.column("id", sa.Integer), sa.column("text", sa.Text), sa.column("suggestion", sa.Text),
    sa.column("text_deidentified", sa.Text), sa.column("suggestion_deidentified", sa.Text),
    sa.column("identifiers_found", sa.Integer),
)


def _backfill():
    connection = op.get_bind()
    rows = connection.execute(sa.select(_report.c.id, _report.c.text, _report.c.suggestion))
    for report_id, text, suggestion in rows.fetchall():
        clean_text, in_text = scrub(text)
        clean_suggestion, in_suggestion = scrub(suggestion) if suggestion else (suggestion, [])
        connection.execute(
            _report.update().where(_report.c.id == report_id).values(
                text_deidentified=clean_text, suggestion_deidentified=clean_suggestion,
                identifiers_found=len(in_text) + len(in_suggestion)))


def upgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_deidentified', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('suggestion_deidentified', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('identifiers_found', sa.Integer(), server_default='0',
                                      nullable=False))
    _backfill()
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.alter_column('text_deidentified', existing_type=sa.Text(), nullable=False)


def downgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_column('identifiers_found')
        batch_op.drop_column('suggestion_deidentified')
        batch_op.drop_column('text_deidentified')
