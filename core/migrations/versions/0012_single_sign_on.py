"""single sign-on

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 04:20:20.356956
"""

import sqlalchemy as sa
from alembic import op

import core.models

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sso_identities",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sso_identities_user_id_users")
        ),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_sso_identities")),
    )
    op.create_index(op.f("ix_sso_identities_user_id"), "sso_identities", ["user_id"])

    # Plain ALTER TABLE (no batch copy of tables others reference); defaults for existing rows.
    op.add_column(
        "auth_sessions", sa.Column("via", sa.String(length=64), server_default="", nullable=False)
    )
    op.add_column(
        "auth_sessions",
        sa.Column("second_factor", sa.String(length=20), server_default="", nullable=False),
    )
    # Since 0011 an account with a second factor opens a session only after its code.
    op.execute(
        "UPDATE auth_sessions SET second_factor = 'code' WHERE user_id IN "
        "(SELECT id FROM users WHERE totp_secret IS NOT NULL)"
    )
    op.add_column("users", sa.Column("sso_provider", sa.String(length=64), nullable=True))
    op.add_column("users", sa.Column("sso_subject", sa.String(length=255), nullable=True))
    op.create_index("ix_users_sso", "users", ["sso_provider", "sso_subject"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_users_sso", table_name="users")
    for column in ("sso_subject", "sso_provider"):
        op.drop_column("users", column)
    for column in ("second_factor", "via"):
        op.drop_column("auth_sessions", column)
    op.drop_index(op.f("ix_sso_identities_user_id"), table_name="sso_identities")
    op.drop_table("sso_identities")
