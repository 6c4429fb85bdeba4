"""background jobs: a report's processed flag, failed jobs, periodic runs

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 15:30:00

A report submitted on the form is stored at once and classified, indexed and grouped
by a background job (app/jobs). `processed` says the job has run: a flag, not a time,
as a time would date an anonymous report's submission. Reports already stored were
processed when they were submitted, so they start as processed. Failed jobs are kept
for an admin (to the hour); `periodic_run` holds the last period each periodic job
ran for, so two workers do not run one period twice.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('report', sa.Column('processed', sa.Boolean(), server_default=sa.true(),
                                      nullable=False))
    op.create_index('ix_report_unprocessed', 'report', ['id'], unique=False,
                    sqlite_where=sa.text('processed = 0'),
                    postgresql_where=sa.text('NOT processed'))
    op.create_table('failed_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('failed_hour', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_failed_job'))
    )
    op.create_table('periodic_run',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_periodic_run'))
    )


def downgrade():
    op.drop_table('periodic_run')
    op.drop_table('failed_job')
    op.drop_index('ix_report_unprocessed', table_name='report',
                  sqlite_where=sa.text('processed = 0'),
                  postgresql_where=sa.text('NOT processed'))
    op.drop_column('report', 'processed')  # not batch: a copied table loses its triggers
