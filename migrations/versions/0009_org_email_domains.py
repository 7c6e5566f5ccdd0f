"""organisations' email domains, and whether line managers' addresses must be on them

Revision ID: 0009_org_email_domains
Revises: 0008_user_sessions
Create Date: 2026-12-02 19:26:52.507914

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_org_email_domains'
down_revision = '0008_user_sessions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_domains', sa.String(length=600), server_default='', nullable=False))
        batch_op.add_column(sa.Column('require_manager_email_domain', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_check_constraint(
            op.f('ck_organisations_required_domains_recorded'),
            "NOT require_manager_email_domain OR email_domains <> ''")


def downgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_organisations_required_domains_recorded'), type_='check')
        batch_op.drop_column('require_manager_email_domain')
        batch_op.drop_column('email_domains')
