"""an index for each user's last login

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 15:40:00

The user list shows each user's last login, read from the audit log's login events
(no column of its own to keep in step). With this index it is one seek per user,
however many events each user has; with the actor index alone it read every event
of each user (a coordinator records one per report viewed).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_actor_action', ['actor_id', 'action', 'at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_actor_action')
