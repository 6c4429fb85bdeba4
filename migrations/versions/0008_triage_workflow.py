"""triage workflow, known issues and comments

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 09:37:46

Reports gain the statuses duplicate and rejected, an assignee, a known issue,
a risk assessment (consequence x likelihood), a due time, hand-off flags and
the queue's urgency key; internal comments and known issues get their tables,
and the audit log an index for a report's history.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

STATUSES_OLD = "status IN ('new', 'triaged', 'in_progress', 'resolved', 'closed')"
STATUSES_NEW = ("status IN ('new', 'triaged', 'in_progress', 'resolved', 'closed',"
                " 'duplicate', 'rejected')")
RISK_IS_PRODUCT = ("(consequence IS NULL AND likelihood IS NULL AND risk_score IS NULL)"
                   " OR risk_score = consequence * likelihood")


def upgrade():
    op.create_table('known_issue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status = 'open' OR (resolution_note IS NOT NULL AND resolved_at IS NOT NULL)", name=op.f('ck_known_issue_resolved_has_note')),
    sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f('ck_known_issue_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_known_issue_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_known_issue'))
    )
    with op.batch_alter_table('known_issue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_known_issue_status'), ['status'], unique=False)

    op.create_table('comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_comment_author_id_user')),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], name=op.f('fk_comment_report_id_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment'))
    )
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_report_id'), ['report_id'], unique=False)

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_object', ['object_type', 'object_id', 'id'], unique=False)

    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('triaged_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('finished_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('known_issue_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('consequence', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('likelihood', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('risk_score', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('risk_confirmed', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('due_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('priority', sa.Float(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('lex_maria', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('medical_products_agency', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('data_protection_authority', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('vendor_ticket', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('deviation_id', sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f('ix_report_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_known_issue_id'), ['known_issue_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_report_assignee_id_user'), 'user', ['assignee_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_report_known_issue_id_known_issue'), 'known_issue', ['known_issue_id'], ['id'])
        batch_op.drop_constraint(batch_op.f('ck_report_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_report_status'), STATUSES_NEW)
        batch_op.create_check_constraint(batch_op.f('ck_report_consequence'),
                                         'consequence BETWEEN 1 AND 4')
        batch_op.create_check_constraint(batch_op.f('ck_report_likelihood'),
                                         'likelihood BETWEEN 1 AND 4')
        batch_op.create_check_constraint(batch_op.f('ck_report_risk_score_is_product'),
                                         RISK_IS_PRODUCT)
    op.create_index('ix_report_urgency', 'report', [sa.text('priority DESC'), 'id'])
    op.create_index('ix_report_review', 'report',
                    [sa.text('needs_review DESC'), sa.text('priority DESC'), 'id'])
    # The urgency key of existing reports: no risk yet, so their safety score.
    op.execute("UPDATE report SET priority = COALESCE(score_safety, 0)"
               " WHERE score_safety IS NULL OR score_safety < 0.999")
    op.execute("UPDATE report SET priority = 0.999 WHERE score_safety >= 0.999")



def downgrade():
    op.execute("UPDATE report SET status = 'closed' WHERE status IN ('duplicate', 'rejected')")
    op.drop_index('ix_report_review', table_name='report')
    op.drop_index('ix_report_urgency', table_name='report')
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_report_risk_score_is_product'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_report_likelihood'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_report_consequence'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_report_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_report_status'), STATUSES_OLD)
        batch_op.drop_constraint(batch_op.f('fk_report_known_issue_id_known_issue'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_report_assignee_id_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_report_known_issue_id'))
        batch_op.drop_index(batch_op.f('ix_report_due_at'))
        batch_op.drop_index(batch_op.f('ix_report_assignee_id'))
        batch_op.drop_column('deviation_id')
        batch_op.drop_column('vendor_ticket')
        batch_op.drop_column('data_protection_authority')
        batch_op.drop_column('medical_products_agency')
        batch_op.drop_column('lex_maria')
        batch_op.drop_column('priority')
        batch_op.drop_column('due_at')
        batch_op.drop_column('risk_confirmed')
        batch_op.drop_column('risk_score')
        batch_op.drop_column('likelihood')
        batch_op.drop_column('consequence')
        batch_op.drop_column('known_issue_id')
        batch_op.drop_column('assignee_id')
        batch_op.drop_column('finished_at')
        batch_op.drop_column('triaged_at')

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_object')

    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_report_id'))

    op.drop_table('comment')
    with op.batch_alter_table('known_issue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_known_issue_status'))

    op.drop_table('known_issue')
