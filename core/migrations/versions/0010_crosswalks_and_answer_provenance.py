"""crosswalks and answer provenance

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 00:06:21.885211
"""

import sqlalchemy as sa
from alembic import op

import core.models

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mapping_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("licence", sa.String(length=200), nullable=False),
        sa.Column("source_bank", sa.String(length=64), nullable=False),
        sa.Column("target_bank", sa.String(length=64), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mapping_sets")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_mapping_sets_key_version")),
    )
    op.create_table(
        "mapping_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mapping_set_id", sa.Integer(), nullable=False),
        sa.Column("source_key", sa.String(length=64), nullable=False),
        sa.Column("target_key", sa.String(length=64), nullable=False),
        sa.Column("relationship", sa.String(length=20), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "relationship IN ('equivalent-to', 'equal-to', 'subset-of', 'superset-of', 'intersects-with', 'no-relationship')",
            name=op.f("ck_mapping_links_relationship"),
        ),
        sa.ForeignKeyConstraint(
            ["mapping_set_id"],
            ["mapping_sets.id"],
            name=op.f("fk_mapping_links_mapping_set_id_mapping_sets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mapping_links")),
        sa.UniqueConstraint(
            "mapping_set_id",
            "target_key",
            "source_key",
            name=op.f("uq_mapping_links_mapping_set_id_target_key_source_key"),
        ),
    )
    op.create_table(
        "answer_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("is_na", sa.Boolean(), nullable=False),
        sa.Column("origin", sa.JSON(), nullable=False),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_answer_proposals_assessment_id_assessments"),
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_answer_proposals_question_id_questions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_proposals")),
        sa.UniqueConstraint(
            "assessment_id",
            "question_id",
            name=op.f("uq_answer_proposals_assessment_id_question_id"),
        ),
    )
    # Plain ALTER TABLE (no batch copy of the table): a nullable column needs no rewrite.
    op.add_column("questionnaire_responses", sa.Column("origin", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("questionnaire_responses", "origin")

    op.drop_table("answer_proposals")
    op.drop_table("mapping_links")
    op.drop_table("mapping_sets")
