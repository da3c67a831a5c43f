"""Every table, as typed SQLAlchemy models; enums are stored as text with CHECK constraints."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.access import ROLES

STATUSES = (
    "not_started",
    "in_progress",
    "submitted",
    "under_review",
    "changes_requested",
    "approved",
    "rejected",
)
REVIEW_STATES = ("pending", "accepted", "needs_changes")
# OSCAL 1.2's mapping relationships (core/mappings): how a source control relates to a target.
RELATIONSHIPS = (
    "equivalent-to",
    "equal-to",
    "subset-of",
    "superset-of",
    "intersects-with",
    "no-relationship",
)
VISIBILITIES = ("shared", "internal")
TIERS = ("tier_1", "tier_2", "tier_3")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns timezone-aware UTC datetimes, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Organization(Timestamped, Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    industry: Mapped[str] = mapped_column(String(60), default="")
    tier: Mapped[str] = mapped_column(String(20), default="tier_2")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # the score planner's target for its assessments: a band name or a score "0".."100";
    # None means the Low-risk band (core/plans.py)
    score_target: Mapped[str | None] = mapped_column(String(20))


class User(Timestamped, Base):
    __tablename__ = "users"
    __table_args__ = (
        Index("ix_users_sso", "sso_provider", "sso_subject", unique=True),
        CheckConstraint(_in("role", ROLES), name="role"),
        CheckConstraint("role <> 'client' OR organization_id IS NOT NULL", name="client_has_org"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), default="")
    role: Mapped[str] = mapped_column(String(20), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(100))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    lockouts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    sessions_valid_after: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # the second factor (core/second_factor.py): the TOTP secret once confirmed, the one being
    # enrolled until then, and the last time step accepted (a code is never accepted twice)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_pending: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # single sign-on (core/sso.py): the provider's key in secrets.toml and the token's `sub`
    sso_provider: Mapped[str | None] = mapped_column(String(64))
    sso_subject: Mapped[str | None] = mapped_column(String(255))


class RecoveryCode(Timestamped, Base):
    """A second-factor recovery code: its SHA-256 only, usable once."""

    __tablename__ = "recovery_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None]


class AuthSession(Timestamped, Base):
    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user_active", "user_id", "revoked_at"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str] = mapped_column(String(40), default="")
    client_address: Mapped[str] = mapped_column(String(64), default="")
    # SHA-256 of the remember-me cookie issued with this session: a cookie signs in only by
    # resuming its own live row, so revoking the row kills the cookie everywhere it was copied.
    cookie_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    # how the sign-in was made: "" for the password form, else the single sign-on provider's name;
    # and how the second factor was given: "code" (ours), "provider" (its amr/acr) or "" (none)
    via: Mapped[str] = mapped_column(String(64), default="", server_default="")
    second_factor: Mapped[str] = mapped_column(String(20), default="", server_default="")


class SsoIdentity(Timestamped, Base):
    """A single sign-on identity already spent: Streamlit's identity cookie opens one session."""

    __tablename__ = "sso_identities"
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)


class SignInAttempt(Timestamped, Base):
    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_address_created", "client_address", "created_at"),
        Index("ix_sign_in_attempts_user_created", "user_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(64), default="")
    client_address: Mapped[str] = mapped_column(String(64), default="")
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)


class Product(Timestamped, Base):
    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("organization_id", "name"),
        Index("ix_products_active_org", "is_active", "organization_id"),  # the overview's count
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    tier: Mapped[str] = mapped_column(String(20), default="tier_2")
    industry: Mapped[str] = mapped_column(String(60), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class Questionnaire(Timestamped, Base):
    __tablename__ = "questionnaires"
    __table_args__ = (UniqueConstraint("key", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    licence: Mapped[str] = mapped_column(String(200), default="")
    content_sha256: Mapped[str] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class Section(Timestamped, Base):
    __tablename__ = "sections"
    __table_args__ = (UniqueConstraint("questionnaire_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"))
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    position: Mapped[int] = mapped_column(Integer)


class Question(Timestamped, Base):
    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("questionnaire_id", "key"),
        Index("ix_questions_section_position", "section_id", "position"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"))
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"))
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    help: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(20))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    evidence_required: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_na: Mapped[bool] = mapped_column(Boolean, default=False)
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Assessment(Timestamped, Base):
    __tablename__ = "assessments"
    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="status"),
        UniqueConstraint("product_id", "questionnaire_id", "cycle"),
        Index("ix_assessments_status_updated", "status", "updated_at"),
        Index("ix_assessments_questionnaire_status", "questionnaire_id", "status"),
        Index("ix_assessments_status_submitted", "status", "submitted_at", "is_active"),
        Index("ix_assessments_benchmark", "questionnaire_id", "is_benchmark", "latest_score"),
        Index("ix_assessments_group", "organization_id", "questionnaire_id", "is_benchmark"),
        Index("ix_assessments_score_change", "score_change", "is_active"),
        Index("ix_assessments_overall_change", "overall_change"),
        Index("ix_assessments_failed_critical", "failed_critical", "is_active"),
        Index("ix_assessments_first_snapshot", "first_snapshot_at"),
        Index("ix_assessments_last_snapshot", "last_snapshot_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="not_started")
    cycle: Mapped[int] = mapped_column(Integer, default=1)
    round: Mapped[int] = mapped_column(Integer, default=1)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_date: Mapped[date | None] = mapped_column(Date)
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    latest_score: Mapped[float | None] = mapped_column(Float)
    latest_band: Mapped[str | None] = mapped_column(String(20))
    # the newest snapshot's share (0-100) of its overall points accepted by a reviewer, and
    # assured (accepted or on in-date evidence), written with latest_score (core/assurance.py)
    accepted_share: Mapped[float | None] = mapped_column(Float)
    assured_share: Mapped[float | None] = mapped_column(Float)
    completion: Mapped[float] = mapped_column(Float, default=0.0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The dashboards' read model (core/read_model.py writes these at commit, nothing else does):
    # the first and last snapshot times, the latest overall score minus the previous snapshot's
    # and minus the first snapshot's, the stored answers failing a critical question, and
    # whether this is its product's newest scored assessment on the version (a benchmark unit).
    first_snapshot_at: Mapped[datetime | None]
    last_snapshot_at: Mapped[datetime | None]
    score_change: Mapped[float | None] = mapped_column(Float)
    overall_change: Mapped[float | None] = mapped_column(Float)
    failed_critical: Mapped[int] = mapped_column(Integer, default=0)
    is_benchmark: Mapped[bool] = mapped_column(Boolean, default=False)


class ProductStatus(Timestamped, Base):
    __tablename__ = "product_statuses"
    __table_args__ = (
        Index("ix_product_statuses_assessment_created", "assessment_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")


class QuestionnaireResponse(Timestamped, Base):
    __tablename__ = "questionnaire_responses"
    __table_args__ = (
        UniqueConstraint("assessment_id", "question_id"),
        CheckConstraint(_in("review_state", REVIEW_STATES), name="review_state"),
        Index("ix_questionnaire_responses_question_score", "question_id", "score"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    value: Mapped[Any | None] = mapped_column(JSON)
    is_na: Mapped[bool] = mapped_column(Boolean, default=False)
    justification: Mapped[str] = mapped_column(Text, default="")
    score: Mapped[float | None] = mapped_column(Float)
    review_state: Mapped[str] = mapped_column(String(20), default="pending")
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # when the answer itself last changed (updated_at also moves when a reviewer flags or accepts it)
    answered_at: Mapped[datetime | None]
    # where a carried, confirmed or reused answer came from (core/mappings/provenance.py)
    origin: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class LeadComment(Timestamped, Base):
    __tablename__ = "lead_comments"
    __table_args__ = (
        CheckConstraint(_in("visibility", VISIBILITIES), name="visibility"),
        Index("ix_lead_comments_assessment_created", "assessment_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    response_id: Mapped[int | None] = mapped_column(ForeignKey("questionnaire_responses.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("lead_comments.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(20), default="shared")
    is_resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class ScoreHistory(Timestamped, Base):
    __tablename__ = "score_history"
    __table_args__ = (
        Index("ix_score_history_assessment_created", "assessment_id", "created_at"),
        Index("ix_score_history_created", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    overall_score: Mapped[float | None] = mapped_column(Float)
    section_scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    band: Mapped[str | None] = mapped_column(String(20))
    completion: Mapped[float] = mapped_column(Float)
    answered_count: Mapped[int] = mapped_column(Integer)
    total_count: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    formula_version: Mapped[str] = mapped_column(String(20))
    settings_used: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # {"scores": {key: score or None}, "contributions": {key: points}}, visible questions only;
    # None on snapshots taken before revision 0003.
    question_scores: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # the share of the points at each assurance level, overall and per section
    # (core/assurance.py); None on snapshots taken before revision 0013.
    assurance: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class SystemSetting(Timestamped, Base):
    __tablename__ = "system_settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class EvidenceFile(Timestamped, Base):
    __tablename__ = "evidence_files"
    __table_args__ = (
        Index("ix_evidence_files_assessment_question", "assessment_id", "question_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    storage_key: Mapped[str] = mapped_column(String(100))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    deleted_at: Mapped[datetime | None]
    # the last day the evidence holds (a certificate's or a pen test's end), if it says
    valid_until: Mapped[date | None] = mapped_column(Date)


class AuditLog(Timestamped, Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_action_created", "action", "created_at"),
        Index("ix_audit_log_object", "object_type", "object_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(20), default="")
    session_id: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


OUTBOX_STATUSES = ("queued", "digest", "digested", "sent", "failed", "skipped")
DELIVERY_MODES = ("immediate", "digest", "off")


class Outbox(Timestamped, Base):
    """One row per recipient and event, written with the change itself (core/outbox.py)."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(_in("status", OUTBOX_STATUSES), name="status"),
        Index("ix_outbox_channel_status_next", "channel", "status", "next_attempt_at"),
        Index("ix_outbox_recipient_created", "recipient_id", "created_at"),
        Index("ix_outbox_recipient_read", "recipient_id", "read_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)  # the stable Message-ID's left part
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20), default="email")
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    address: Mapped[str] = mapped_column(String(254), default="")
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None]
    reply: Mapped[str] = mapped_column(String(500), default="")
    read_at: Mapped[datetime | None]
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)


class NotificationPreference(Timestamped, Base):
    """How one person wants one kind of event e-mailed: immediately, in a daily digest, or not."""

    __tablename__ = "notification_preferences"
    __table_args__ = (CheckConstraint(_in("mode", DELIVERY_MODES), name="mode"),)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    mode: Mapped[str] = mapped_column(String(20), default="immediate")


TOKEN_SCOPES = ("read", "write")


class ApiToken(Timestamped, Base):
    """A personal access token for the REST API (core/tokens.py): only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint(_in("scope", TOKEN_SCOPES), name="scope"),
        Index("ix_api_tokens_user_created", "user_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)  # shown, and the lookup key
    token_hash: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(10))
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    last_used_address: Mapped[str] = mapped_column(String(64), default="")
    revoked_at: Mapped[datetime | None]


LINK_PURPOSES = ("invitation", "password_reset")


class LinkToken(Timestamped, Base):
    """A single-use link sent by e-mail, an invitation or a password reset (core/invitations.py,
    core/password_reset.py): only its SHA-256 is stored."""

    __tablename__ = "link_tokens"
    __table_args__ = (
        CheckConstraint(_in("purpose", LINK_PURPOSES), name="purpose"),
        Index("ix_link_tokens_email_purpose", "email", "purpose"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20), default="")  # an invitation's role
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # reset; invitee once used
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Webhook(Timestamped, Base):
    """An integration's HTTPS endpoint and the events it wants (core/webhooks.py); each delivery is
    an outbox row on the "webhook" channel, each attempt a WebhookAttempt."""

    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class WebhookAttempt(Base):
    """One delivery attempt of a webhook: the status code (none when no answer came) and latency."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_webhook_at", "webhook_id", "attempted_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"))
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None]
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str] = mapped_column(String(500), default="")


# SQLite: a table without rowid keeps its rows in primary key order (no second index to read).
KEY_ORDERED = ({"sqlite_with_rowid": False},)


class AssessmentSection(Base):
    """A section score of an assessment's newest snapshot (read model: core/read_model.py)."""

    __tablename__ = "assessment_sections"
    __table_args__ = KEY_ORDERED
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), primary_key=True)
    section_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    score: Mapped[float] = mapped_column(Float)


class StatusRollup(Base):
    """Active assessments of one organisation and version per status and latest band ("" for
    none), with their score and completion sums (read model: core/read_model.py)."""

    __tablename__ = "status_rollups"
    __table_args__ = KEY_ORDERED
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    band: Mapped[str] = mapped_column(String(20), primary_key=True)
    assessments: Mapped[int] = mapped_column(Integer)
    scored: Mapped[int] = mapped_column(Integer)
    score_sum: Mapped[float] = mapped_column(Float)
    completion_sum: Mapped[float] = mapped_column(Float)
    submitted: Mapped[int] = mapped_column(Integer)


class BenchmarkCount(Base):
    """How many benchmark units (each product's newest scored assessment on the version) of one
    organisation have one score in one section ("overall" for the overall score)."""

    __tablename__ = "benchmark_counts"
    __table_args__ = KEY_ORDERED
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    section_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    score: Mapped[float] = mapped_column(Float, primary_key=True)
    products: Mapped[int] = mapped_column(Integer)


class BenchmarkTotal(Base):
    """benchmark_counts summed over organisations: the version's benchmark units per section and
    score (what the unfiltered benchmark reads; read model: core/read_model.py)."""

    __tablename__ = "benchmark_totals"
    __table_args__ = KEY_ORDERED
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"), primary_key=True)
    section_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    score: Mapped[float] = mapped_column(Float, primary_key=True)
    products: Mapped[int] = mapped_column(Integer)


class ScoreMonth(Base):
    """What one month's snapshots of an organisation's active assessments on a version change in
    the trend's running sums: overall score, scored assessments, completion, assessments with a
    snapshot (each snapshot counted against the one before it of the same assessment)."""

    __tablename__ = "score_months"
    __table_args__ = KEY_ORDERED
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    score_change: Mapped[float] = mapped_column(Float)
    scored_change: Mapped[int] = mapped_column(Integer)
    completion_change: Mapped[float] = mapped_column(Float)
    started: Mapped[int] = mapped_column(Integer)


class MappingSet(Timestamped, Base):
    """A versioned crosswalk from one bank's questions to another's (core/mappings/store.py)."""

    __tablename__ = "mapping_sets"
    __table_args__ = (UniqueConstraint("key", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(200), default="")  # the file it came from
    licence: Mapped[str] = mapped_column(String(200), default="")
    source_bank: Mapped[str] = mapped_column(String(64))  # bank keys: links hold question keys
    target_bank: Mapped[str] = mapped_column(String(64))
    content_sha256: Mapped[str] = mapped_column(String(64))
    # what the import could not resolve: {"unresolved": [...], "withdrawn": {...}, ...}
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class MappingLink(Base):
    """One source question related to one target question by an OSCAL relationship."""

    __tablename__ = "mapping_links"
    __table_args__ = (
        CheckConstraint(_in("relationship", RELATIONSHIPS), name="relationship"),
        UniqueConstraint("mapping_set_id", "target_key", "source_key"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    mapping_set_id: Mapped[int] = mapped_column(ForeignKey("mapping_sets.id"))
    source_key: Mapped[str] = mapped_column(String(64))
    target_key: Mapped[str] = mapped_column(String(64))
    relationship: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[float | None] = mapped_column(Float)
    rationale: Mapped[str] = mapped_column(Text, default="")


class AnswerProposal(Timestamped, Base):
    """An answer a pre-fill proposes (from a subset-of or intersects-with source): it counts
    nowhere until the client confirms it, which stores it as an answer (core/mappings/prefill.py)."""

    __tablename__ = "answer_proposals"
    __table_args__ = (UniqueConstraint("assessment_id", "question_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    value: Mapped[Any | None] = mapped_column(JSON)
    is_na: Mapped[bool] = mapped_column(Boolean, default=False)
    origin: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AssessmentPlan(Timestamped, Base):
    """The score planner's saved plan for an assessment: planned answers by question key
    ({"value": ..., "is_na": ...}) and the target. It never changes a stored answer (core/plans.py)."""

    __tablename__ = "assessment_plans"
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), primary_key=True)
    planned: Mapped[dict[str, Any]] = mapped_column(default=dict)
    target: Mapped[str] = mapped_column(String(20))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


TABLES = tuple(sorted(Base.metadata.tables))
