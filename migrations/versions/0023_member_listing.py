"""memberships keep a copy of their organisation's sector, size and sort name

Revision ID: 0023_member_listing
Revises: 0022_partnership_calendar_index
Create Date: 2026-12-03 15:10:00

The partnership page counts its members by sector and lists the first of each by
name. ``partnership_members`` gets ``sector`` (public, vcse or other), ``is_small``
and ``sort_name``, copies of its organisation's kept by ``partnership/listing.py``,
filled here for existing rows, and the index ``ix_partnership_members_listing`` the
page reads alone. It replaces ``ix_partnership_members_partnership_status``, whose
columns it begins with.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023_member_listing'
down_revision = '0022_partnership_calendar_index'
branch_labels = None
depends_on = None

# As the code defines them today (OrgType.sector, SMALL_BANDS), frozen here.
PUBLIC = ('local_authority', 'combined_authority', 'nhs_body', 'police', 'fire',
          'other_public', 'education')
VCSE = ('charity', 'cic', 'community_group', 'faith_group', 'housing_association')
SMALL = ('up_to_10k', '10k_100k', '100k_500k')


def upgrade():
    with op.batch_alter_table('partnership_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sector', sa.String(length=10), server_default='other',
                                      nullable=False))
        batch_op.add_column(sa.Column('is_small', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('sort_name', sa.String(length=160), server_default='',
                                      nullable=False))
    organisations = sa.table('organisations', sa.column('id', sa.Integer),
                             sa.column('org_type', sa.String),
                             sa.column('income_band', sa.String),
                             sa.column('sort_name', sa.String))
    members = sa.table('partnership_members', sa.column('organisation_id', sa.Integer),
                       sa.column('sector', sa.String), sa.column('is_small', sa.Boolean),
                       sa.column('sort_name', sa.String))

    def of_org(column):
        return sa.select(column).where(
            organisations.c.id == members.c.organisation_id).scalar_subquery()

    sector = sa.case((organisations.c.org_type.in_(PUBLIC), 'public'),
                     (organisations.c.org_type.in_(VCSE), 'vcse'), else_='other')
    op.get_bind().execute(members.update().values(
        sector=of_org(sector), is_small=of_org(organisations.c.income_band.in_(SMALL)),
        sort_name=of_org(organisations.c.sort_name)))
    with op.batch_alter_table('partnership_members', schema=None) as batch_op:
        batch_op.create_index('ix_partnership_members_listing',
                              ['partnership_id', 'status', 'sector', 'sort_name',
                               'organisation_id', 'is_small'], unique=False)
        batch_op.drop_index('ix_partnership_members_partnership_status')


def downgrade():
    with op.batch_alter_table('partnership_members', schema=None) as batch_op:
        batch_op.create_index('ix_partnership_members_partnership_status',
                              ['partnership_id', 'status'], unique=False)
        batch_op.drop_index('ix_partnership_members_listing')
        batch_op.drop_column('sort_name')
        batch_op.drop_column('is_small')
        batch_op.drop_column('sector')
