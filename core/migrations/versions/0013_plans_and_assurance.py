"""score plans and assurance

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 07:44:03.621894
"""

import sqlalchemy as sa
from alembic import op

import core.models

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment_plans",
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("planned", sa.JSON(), nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_assessment_plans_assessment_id_assessments"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_assessment_plans_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("assessment_id", name=op.f("pk_assessment_plans")),
    )
    # Plain ALTER TABLE (no batch copy of tables others reference).
    op.add_column("assessments", sa.Column("accepted_share", sa.Float(), nullable=True))
    op.add_column("assessments", sa.Column("assured_share", sa.Float(), nullable=True))
    op.add_column("evidence_files", sa.Column("valid_until", sa.Date(), nullable=True))
    op.add_column("organizations", sa.Column("score_target", sa.String(length=20), nullable=True))
    op.add_column(
        "score_history", sa.Column("assurance", sa.JSON(none_as_null=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("score_history", "assurance")
    op.drop_column("organizations", "score_target")
    op.drop_column("evidence_files", "valid_until")
    op.drop_column("assessments", "assured_share")
    op.drop_column("assessments", "accepted_share")
    op.drop_table("assessment_plans")
