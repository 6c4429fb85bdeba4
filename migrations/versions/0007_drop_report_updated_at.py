"""report: drop updated_at

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 06:30:00

Nothing read it, and on an anonymous report it kept the exact time of
submission (classification updates the row a moment later): the anonymity
rule allows the date only. The audit log holds the history of changes.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_column('updated_at')


def downgrade():
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=True))
