"""The rows of the dashboards' read model (core/read_model.py), as statements over the source
tables: the same statements build it, keep it and check it (core/read_model_check.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    case,
    cast,
    func,
    literal,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.selectable import TableValuedAlias

from core.models import (
    Assessment,
    AssessmentSection,
    BenchmarkCount,
    BenchmarkTotal,
    Question,
    QuestionnaireResponse,
    ScoreHistory,
    ScoreMonth,
)
from core.periods import month_of
from core.scoring import CRITICAL_FAIL_BELOW

OVERALL = "overall"  # benchmark_counts' section key of the overall score


def derived_columns() -> dict[str, ColumnElement[Any]]:
    """The read model's columns of an assessment, as expressions correlated to its row."""
    own = ScoreHistory.assessment_id == Assessment.id

    def overall(order: Any, offset: int = 0) -> ColumnElement[Any]:
        return (
            select(ScoreHistory.overall_score)
            .where(own)
            .order_by(order)
            .limit(1)
            .offset(offset)
            .scalar_subquery()
        )

    critical = select(Question.id).where(Question.critical)
    failed = (
        select(func.count())
        .select_from(QuestionnaireResponse)
        .where(
            QuestionnaireResponse.assessment_id == Assessment.id,
            QuestionnaireResponse.question_id.in_(critical),
            QuestionnaireResponse.score < CRITICAL_FAIL_BELOW,
        )
        .scalar_subquery()
    )
    return {
        "first_snapshot_at": select(func.min(ScoreHistory.created_at)).where(own).scalar_subquery(),
        "last_snapshot_at": select(func.max(ScoreHistory.created_at)).where(own).scalar_subquery(),
        "score_change": Assessment.latest_score - overall(ScoreHistory.id.desc(), 1),
        "overall_change": Assessment.latest_score - overall(ScoreHistory.id),
        "failed_critical": failed,
    }


def benchmark_units(where: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    """Ids of each product's newest active scored assessment on each version."""
    return (
        select(func.max(Assessment.id))
        .where(where, Assessment.is_active, Assessment.latest_score.is_not(None))
        .group_by(Assessment.product_id, Assessment.questionnaire_id)
    )


def section_pairs(
    session: Session,
) -> tuple[TableValuedAlias, ColumnElement[Any], ColumnElement[Any]]:
    """(key, numeric value) of each entry of score_history.section_scores, as a lateral table."""
    if session.get_bind().dialect.name == "postgresql":
        pairs = func.json_each_text(ScoreHistory.section_scores).table_valued("key", "value")
        return pairs, pairs.c.key, cast(pairs.c.value, Float)
    pairs = func.json_each(ScoreHistory.section_scores).table_valued("key", "value")
    return pairs, pairs.c.key, pairs.c.value


def newest_sections(session: Session, where: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    """(assessment id, section key, score) of the newest snapshot of each assessment whose
    snapshots match `where`, scored sections only."""
    newest = select(func.max(ScoreHistory.id)).where(where).group_by(ScoreHistory.assessment_id)
    pairs, key, value = section_pairs(session)
    return (
        select(ScoreHistory.assessment_id, key, value)
        .select_from(ScoreHistory)
        .join(pairs, true())
        .where(ScoreHistory.id.in_(newest), value.is_not(None))
    )


def status_rows(where: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    """status_rollups' rows computed from the assessments matching `where`."""
    band = func.coalesce(Assessment.latest_band, "")
    sent = case((Assessment.submitted_at.is_not(None), 1), else_=0)
    return (
        select(
            Assessment.organization_id,
            Assessment.questionnaire_id,
            Assessment.status,
            band,
            func.count(),
            func.count(Assessment.latest_score),
            func.coalesce(func.sum(Assessment.latest_score), 0.0),
            func.coalesce(func.sum(Assessment.completion), 0.0),
            func.sum(sent),
        )
        .where(where, Assessment.is_active)
        .group_by(Assessment.organization_id, Assessment.questionnaire_id, Assessment.status, band)
    )


def benchmark_rows(where: ColumnElement[bool]) -> Any:
    """benchmark_counts' rows computed from the benchmark units matching `where`."""
    units = where & Assessment.is_benchmark
    overall = (
        select(
            Assessment.questionnaire_id,
            Assessment.organization_id,
            literal(OVERALL),
            Assessment.latest_score,
            func.count(),
        )
        .where(units)
        .group_by(Assessment.questionnaire_id, Assessment.organization_id, Assessment.latest_score)
    )
    sections = (
        select(
            Assessment.questionnaire_id,
            Assessment.organization_id,
            AssessmentSection.section_key,
            AssessmentSection.score,
            func.count(),
        )
        .join(Assessment, Assessment.id == AssessmentSection.assessment_id)
        .where(units)
        .group_by(
            Assessment.questionnaire_id,
            Assessment.organization_id,
            AssessmentSection.section_key,
            AssessmentSection.score,
        )
    )
    return union_all(overall, sections)


def month_rows(where: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    """score_months' rows computed from the snapshots of the active assessments matching `where`:
    each snapshot's change to the running sums against the one before it (LAG)."""
    partition, order = ScoreHistory.assessment_id, (ScoreHistory.created_at, ScoreHistory.id)
    prev_score = func.lag(ScoreHistory.overall_score).over(partition_by=partition, order_by=order)
    prev_done = func.lag(ScoreHistory.completion).over(partition_by=partition, order_by=order)
    return _monthly(where, prev_score, prev_done)


def appended_month_rows(snapshots: list[int]) -> Select[*tuple[Any, ...]]:
    """What the snapshots given add to score_months: the same changes as month_rows, each
    against the snapshot just before it of its assessment (read by index, not by window)."""
    before = aliased(ScoreHistory)

    def previous(column: Any) -> ColumnElement[Any]:
        return (
            select(column)
            .where(
                before.assessment_id == ScoreHistory.assessment_id,
                tuple_(before.created_at, before.id)
                < tuple_(ScoreHistory.created_at, ScoreHistory.id),
            )
            .order_by(before.created_at.desc(), before.id.desc())
            .limit(1)
            .scalar_subquery()
        )

    mine = ScoreHistory.id.in_(snapshots)
    return _monthly(mine, previous(before.overall_score), previous(before.completion))


def _monthly(
    where: ColumnElement[bool], prev_score: ColumnElement[Any], prev_done: ColumnElement[Any]
) -> Select[*tuple[Any, ...]]:
    first = case((prev_done.is_(None), 1), else_=0)  # completion is never NULL

    def scored(column: Any) -> ColumnElement[int]:
        return case((column.is_(None), 0), else_=1)

    deltas = (
        select(
            Assessment.organization_id.label("org"),
            Assessment.questionnaire_id.label("q"),
            month_of(ScoreHistory.created_at).label("m"),
            (func.coalesce(ScoreHistory.overall_score, 0) - func.coalesce(prev_score, 0)).label(
                "ds"
            ),
            (scored(ScoreHistory.overall_score) - (1 - first) * scored(prev_score)).label("dn"),
            (ScoreHistory.completion - func.coalesce(prev_done, 0)).label("dc"),
            first.label("dk"),
        )
        .join(Assessment, Assessment.id == ScoreHistory.assessment_id)
        .where(where, Assessment.is_active)
    ).subquery()
    return select(
        deltas.c.org,
        deltas.c.q,
        deltas.c.m,
        func.sum(deltas.c.ds),
        func.sum(deltas.c.dn),
        func.sum(deltas.c.dc),
        func.sum(deltas.c.dk),
    ).group_by(deltas.c.org, deltas.c.q, deltas.c.m)


def total_rows() -> Select[*tuple[Any, ...]]:
    """benchmark_totals' rows computed from benchmark_counts."""
    return select(
        BenchmarkCount.questionnaire_id,
        BenchmarkCount.section_key,
        BenchmarkCount.score,
        func.sum(BenchmarkCount.products),
    ).group_by(BenchmarkCount.questionnaire_id, BenchmarkCount.section_key, BenchmarkCount.score)


def newest_of_theirs(session: Session, snapshots: list[int]) -> bool:
    """True when no other snapshot of the same assessments comes after these (in time, then
    id): then each one's change to the months is against the snapshot before it, as stored."""
    later = aliased(ScoreHistory)
    mine = ScoreHistory.id.in_(snapshots)
    after = select(later.id).where(
        later.assessment_id == ScoreHistory.assessment_id,
        tuple_(later.created_at, later.id) > tuple_(ScoreHistory.created_at, ScoreHistory.id),
        later.id.not_in(snapshots),
    )
    return session.scalar(select(ScoreHistory.id).where(mine, after.exists()).limit(1)) is None


def add_to_months(session: Session, snapshots: list[int]) -> Any:
    """Add the monthly changes of appended snapshots to score_months."""
    upsert = _upsert(session)
    columns = [c.name for c in ScoreMonth.__table__.columns]
    stmt = upsert(ScoreMonth).from_select(columns, appended_month_rows(snapshots))
    sums = ("score_change", "scored_change", "completion_change", "started")
    return stmt.on_conflict_do_update(
        index_elements=["organization_id", "questionnaire_id", "month"],
        set_={c: getattr(ScoreMonth, c) + getattr(stmt.excluded, c) for c in sums},
    )


def add_to_totals(session: Session, org: int, q: int, sign: int) -> Any:
    """Add (sign 1) or take away (-1) one organisation's benchmark counts on a version from
    the totals: integer counts, so the totals stay exact."""
    upsert = _upsert(session)
    rows = select(
        BenchmarkCount.questionnaire_id,
        BenchmarkCount.section_key,
        BenchmarkCount.score,
        BenchmarkCount.products * sign,
    ).where(BenchmarkCount.organization_id == org, BenchmarkCount.questionnaire_id == q)
    stmt = upsert(BenchmarkTotal).from_select(
        ["questionnaire_id", "section_key", "score", "products"], rows
    )
    return stmt.on_conflict_do_update(
        index_elements=["questionnaire_id", "section_key", "score"],
        set_={"products": BenchmarkTotal.products + stmt.excluded.products},
    )


def _upsert(session: Session) -> Any:
    """The engine's INSERT ... ON CONFLICT construct."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
