"""similarity index of report terms, and known issues' reports by day

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 10:00:00

`report_term` holds each report's most distinctive terms (see ml.similarity and
app.services.similarity); it starts empty: `flask --app app similarity rebuild`
fills it for the reports already in the database (new reports are indexed when
they are submitted). `ix_report_known_issue_seen` serves the known-issue list's
counts, dates, units and weekly counts from the index alone.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_term',
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('term_key', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], name=op.f('fk_report_term_report_id_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'term_key', name=op.f('pk_report_term')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('report_term', schema=None) as batch_op:
        batch_op.create_index('ix_report_term_key', ['term_key', 'report_id'], unique=False)

    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index('ix_report_known_issue_seen',
                              ['known_issue_id', 'submitted_on', 'id', 'unit_id'], unique=False)


def downgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index('ix_report_known_issue_seen')

    with op.batch_alter_table('report_term', schema=None) as batch_op:
        batch_op.drop_index('ix_report_term_key')

    op.drop_table('report_term')
