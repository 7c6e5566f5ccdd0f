"""one-time tokens of create forms already sent (partnerships/once.py)

Revision ID: 0013_submitted_forms
Revises: 0012_posts_deleted_by_author
Create Date: 2026-12-03 07:10:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_submitted_forms'
down_revision = '0012_posts_deleted_by_author'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'submitted_forms',
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_submitted_forms_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token', name=op.f('pk_submitted_forms')),
    )
    with op.batch_alter_table('submitted_forms', schema=None) as batch_op:
        batch_op.create_index('ix_submitted_forms_user_id_created_at',
                              ['user_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('submitted_forms', schema=None) as batch_op:
        batch_op.drop_index('ix_submitted_forms_user_id_created_at')
    op.drop_table('submitted_forms')
