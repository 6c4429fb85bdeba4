"""emerging issues, stored alerts, known-issue updates

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 12:29:25

Reports gain the hour they came in (`submitted_hour`; an anonymous report keeps no
finer time). Emerging issues, their members, their
term index and the exclusions coordinators made get their tables; alerts are
stored, once per thing they are about; known issues get updates for their
reporters; users an opt-in for alert e-mails. Existing reports get the hour of
their submission time, or midnight of their submission day when they are
anonymous (the same as `Report.arrived_at`).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('emerging_issue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('profile', sa.JSON(), nullable=False),
    sa.Column('excluded', sa.JSON(), nullable=False),
    sa.Column('member_count', sa.Integer(), nullable=False),
    sa.Column('first_report_at', sa.DateTime(), nullable=True),
    sa.Column('last_report_at', sa.DateTime(), nullable=True),
    sa.Column('known_issue_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(status IN ('confirmed', 'merged')) = (known_issue_id IS NOT NULL)", name=op.f('ck_emerging_issue_decided_into_known_issue')),
    sa.CheckConstraint("status IN ('forming', 'open', 'confirmed', 'merged', 'dismissed', 'faded')", name=op.f('ck_emerging_issue_status')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_emerging_issue_decided_by_id_user')),
    sa.ForeignKeyConstraint(['known_issue_id'], ['known_issue.id'], name=op.f('fk_emerging_issue_known_issue_id_known_issue')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emerging_issue'))
    )
    with op.batch_alter_table('emerging_issue', schema=None) as batch_op:
        batch_op.create_index('ix_emerging_issue_status_last', ['status', 'last_report_at'], unique=False)
        batch_op.create_index('uq_emerging_issue_known_issue_profile', ['known_issue_id'], unique=True, sqlite_where=sa.text("status = 'confirmed'"), postgresql_where=sa.text("status = 'confirmed'"))

    op.create_table('known_issue_update',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('known_issue_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_known_issue_update_author_id_user')),
    sa.ForeignKeyConstraint(['known_issue_id'], ['known_issue.id'], name=op.f('fk_known_issue_update_known_issue_id_known_issue'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_known_issue_update'))
    )
    with op.batch_alter_table('known_issue_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_known_issue_update_known_issue_id'), ['known_issue_id'], unique=False)

    op.create_table('alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('raised_at', sa.DateTime(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('state_changed_at', sa.DateTime(), nullable=True),
    sa.Column('state_changed_by_id', sa.Integer(), nullable=True),
    sa.Column('emerging_issue_id', sa.Integer(), nullable=True),
    sa.Column('known_issue_id', sa.Integer(), nullable=True),
    sa.Column('cleared_at', sa.DateTime(), nullable=True),
    sa.Column('notified_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('emerging', 'spike')", name=op.f('ck_alert_kind')),
    sa.CheckConstraint("state != 'linked' OR known_issue_id IS NOT NULL", name=op.f('ck_alert_linked')),
    sa.CheckConstraint("state IN ('new', 'seen', 'linked', 'dismissed')", name=op.f('ck_alert_state')),
    sa.ForeignKeyConstraint(['emerging_issue_id'], ['emerging_issue.id'], name=op.f('fk_alert_emerging_issue_id_emerging_issue'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['known_issue_id'], ['known_issue.id'], name=op.f('fk_alert_known_issue_id_known_issue')),
    sa.ForeignKeyConstraint(['state_changed_by_id'], ['user.id'], name=op.f('fk_alert_state_changed_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert'))
    )
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_emerging_issue_id'), ['emerging_issue_id'], unique=False)
        batch_op.create_index('ix_alert_raised_at', ['raised_at'], unique=False)
        batch_op.create_index('uq_alert_uncleared_key', ['key'], unique=True, sqlite_where=sa.text('cleared_at IS NULL'), postgresql_where=sa.text('cleared_at IS NULL'))

    op.create_table('emerging_issue_term',
    sa.Column('emerging_issue_id', sa.Integer(), nullable=False),
    sa.Column('term_key', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['emerging_issue_id'], ['emerging_issue.id'], name=op.f('fk_emerging_issue_term_emerging_issue_id_emerging_issue'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('emerging_issue_id', 'term_key', name=op.f('pk_emerging_issue_term')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('emerging_issue_term', schema=None) as batch_op:
        batch_op.create_index('ix_emerging_issue_term_key', ['term_key', 'emerging_issue_id'], unique=False)

    op.create_table('emerging_issue_report',
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('emerging_issue_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['emerging_issue_id'], ['emerging_issue.id'], name=op.f('fk_emerging_issue_report_emerging_issue_id_emerging_issue'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], name=op.f('fk_emerging_issue_report_report_id_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', name=op.f('pk_emerging_issue_report'))
    )
    op.create_index('ix_emerging_issue_report_issue', 'emerging_issue_report', ['emerging_issue_id', 'report_id'], unique=False)

    op.create_table('grouping_exclusion',
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('emerging_issue_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_grouping_exclusion_created_by_id_user')),
    sa.ForeignKeyConstraint(['emerging_issue_id'], ['emerging_issue.id'], name=op.f('fk_grouping_exclusion_emerging_issue_id_emerging_issue'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], name=op.f('fk_grouping_exclusion_report_id_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'emerging_issue_id', name=op.f('pk_grouping_exclusion'))
    )
    op.add_column('report', sa.Column('submitted_hour', sa.DateTime(), nullable=True))
    op.create_index('ix_report_submitted_hour', 'report', ['submitted_hour'], unique=False)

    op.add_column('user', sa.Column('notify_alerts', sa.Boolean(), server_default=sa.false(), nullable=False))

    _backfill_submitted_hour(op.get_bind().dialect.name)


report = sa.table('report', sa.column('submitted_hour', sa.DateTime()),
                  sa.column('submitted_at', sa.DateTime()), sa.column('submitted_on', sa.Date()))


def _backfill_submitted_hour(dialect: str) -> None:
    if dialect == 'postgresql':
        hour = sa.func.coalesce(sa.func.date_trunc('hour', report.c.submitted_at),
                                sa.cast(report.c.submitted_on, sa.DateTime()))
    else:
        # SQLite keeps a datetime as text in SQLAlchemy's format, microseconds included.
        hour = sa.func.coalesce(sa.func.strftime('%Y-%m-%d %H:00:00.000000', report.c.submitted_at),
                                sa.func.strftime('%Y-%m-%d 00:00:00.000000', report.c.submitted_on))
    op.execute(sa.update(report).values(submitted_hour=hour))


def downgrade():
    op.drop_column('user', 'notify_alerts')

    op.drop_index('ix_report_submitted_hour', table_name='report')
    op.drop_column('report', 'submitted_hour')

    op.drop_table('grouping_exclusion')
    op.drop_index('ix_emerging_issue_report_issue', table_name='emerging_issue_report')
    op.drop_table('emerging_issue_report')
    with op.batch_alter_table('emerging_issue_term', schema=None) as batch_op:
        batch_op.drop_index('ix_emerging_issue_term_key')

    op.drop_table('emerging_issue_term')
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_index('uq_alert_uncleared_key', sqlite_where=sa.text('cleared_at IS NULL'), postgresql_where=sa.text('cleared_at IS NULL'))
        batch_op.drop_index('ix_alert_raised_at')
        batch_op.drop_index(batch_op.f('ix_alert_emerging_issue_id'))

    op.drop_table('alert')
    with op.batch_alter_table('known_issue_update', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_known_issue_update_known_issue_id'))

    op.drop_table('known_issue_update')
    with op.batch_alter_table('emerging_issue', schema=None) as batch_op:
        batch_op.drop_index('ix_emerging_issue_status_last')
        batch_op.drop_index('uq_emerging_issue_known_issue_profile')

    op.drop_table('emerging_issue')

