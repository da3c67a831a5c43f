"""Request bodies and the main response shapes. Bodies are strict: a wrong type or an unknown
field is a 422 problem before any core function runs; what a value means is checked by core."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Strict = ConfigDict(extra="forbid", strict=True)


class ProductIn(BaseModel):
    """A new product in an organisation."""

    model_config = Strict
    organization_id: int
    name: str = Field(max_length=500)
    description: str = Field("", max_length=5000)
    tier: str = "tier_2"


class AssessmentIn(BaseModel):
    """Start an assessment of a product against a questionnaire version."""

    model_config = Strict
    product_id: int
    questionnaire_id: int
    due_date: date | None = Field(None, strict=False)  # ISO 8601 text, as JSON carries dates


class AnswerIn(BaseModel):
    """One answer: the value as its question type takes it, N/A, and a justification."""

    model_config = Strict
    value: Any = None
    is_na: bool = False
    justification: str = Field("", max_length=20_000)


class AnswersIn(BaseModel):
    """Answers by question key; questions not named keep what they have."""

    model_config = Strict
    answers: dict[str, AnswerIn] = Field(max_length=2000)


class EvidenceIn(BaseModel):
    """What may change on an evidence file: the day it is valid until (null clears it)."""

    model_config = Strict
    valid_until: date | None = Field(strict=False)  # ISO 8601 text, as JSON carries dates


class CommentIn(BaseModel):
    """A comment on the assessment, or on one answer, or a reply."""

    model_config = Strict
    body: str = Field(max_length=20_000)
    visibility: Literal["shared", "internal"] = "shared"
    question_key: str | None = Field(None, max_length=64)
    parent_id: int | None = None


class AssessmentOut(BaseModel):
    """An assessment as listings and lookups give it."""

    id: int
    product_id: int
    product: str
    organization_id: int
    organization: str
    questionnaire_id: int
    questionnaire: str
    questionnaire_version: int
    cycle: int
    round: int
    status: str
    completion: float
    latest_score: float | None
    latest_band: str | None
    accepted_share: float | None
    assured_share: float | None
    due_date: date | None
    reviewer_id: int | None
    submitted_at: datetime | None
    decided_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AssessmentPage(BaseModel):
    """One page of assessments."""

    items: list[AssessmentOut]
    next_cursor: str | None


class ProductOut(BaseModel):
    """A product and its organisation."""

    id: int
    name: str
    description: str
    tier: str
    industry: str
    organization_id: int
    organization: str
    created_at: datetime


class ProductPage(BaseModel):
    """One page of products."""

    items: list[ProductOut]
    next_cursor: str | None


class OrganizationOut(BaseModel):
    """A client organisation."""

    id: int
    name: str
    industry: str
    tier: str


class OrganizationPage(BaseModel):
    """One page of organisations."""

    items: list[OrganizationOut]
    next_cursor: str | None
