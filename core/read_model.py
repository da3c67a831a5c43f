"""The dashboards' read model, kept in the same transaction as the writes it follows.

What the analytics pages read, so that they read rows in proportion to what they show rather
than to how much history there is:

* on each assessment: its first and last snapshot times, the latest overall score minus the
  previous snapshot's (`score_change`) and minus the first snapshot's (`overall_change`), how
  many stored answers fail a critical question, and whether it is its product's newest scored
  assessment on the version (`is_benchmark`, the benchmark unit);
* `assessment_sections`: the section scores of each assessment's newest snapshot;
* per organisation and version: `status_rollups` (assessments per status and band with score
  and completion sums), `benchmark_counts` (benchmark units per section and score) and
  `score_months` (each month's change to the trend's running sums).

Nothing else writes these. The session listeners below note which assessments a unit of work
changed (ORM objects of assessments, snapshots and answers; `touch()` for bulk statements) and,
just before it commits, recompute their columns and the rows of their organisation and version.
`rebuild()` recomputes everything (migration, synthetic seed); core/read_model_check.py compares
the stored model with a fresh computation (`python -m core.cli analytics-verify`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Delete,
    delete,
    event,
    insert,
    inspect,
    select,
    text,
    true,
    update,
)
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm import SessionTransaction as Transaction

from core.models import (
    Assessment,
    AssessmentSection,
    BenchmarkCount,
    BenchmarkTotal,
    Organization,
    QuestionnaireResponse,
    ScoreHistory,
    ScoreMonth,
    StatusRollup,
)
from core.read_model_rows import (
    add_to_months,
    add_to_totals,
    benchmark_rows,
    benchmark_units,
    derived_columns,
    month_rows,
    newest_of_theirs,
    newest_sections,
    status_rows,
    total_rows,
)

Group = tuple[int, int]  # (organization id, questionnaire id)
_TOUCHED = "read_model_touched"  # session.info: assessment id -> its snapshots changed
_GROUPS = "read_model_groups"  # session.info: assessment id -> its group, where known
_GONE = "read_model_gone"  # session.info: groups of deleted assessments
_APPENDED = "read_model_appended"  # session.info: new snapshot id -> its assessment id
_RECOUNT = "read_model_recount"  # session.info: assessments whose monthly rows must be recounted
_KEYS = (_TOUCHED, _GROUPS, _GONE, _APPENDED, _RECOUNT)


def touch(session: Session, assessment: Assessment) -> None:
    """Note that a bulk statement changed an assessment's answers: the read model follows it at
    commit (ORM changes are noted by the listeners below)."""
    _note(session, assessment.id, False, (assessment.organization_id, assessment.questionnaire_id))


def _note(session: Session, aid: int, history: bool, group: Group | None = None) -> None:
    touched: dict[int, bool] = session.info.setdefault(_TOUCHED, {})
    touched[aid] = touched.get(aid, False) or history
    if group is not None:
        session.info.setdefault(_GROUPS, {})[aid] = group


# What an assessment's benchmark standing and monthly rows depend on besides its snapshots.
_STANDING = ("is_active", "latest_score", "latest_band")


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _flush: UOWTransaction) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Assessment):
            group = (obj.organization_id, obj.questionnaire_id)
            if obj in session.deleted:
                session.info.setdefault(_GONE, set()).add(group)
            else:
                state = inspect(obj)
                moved = any(state.attrs[name].history.has_changes() for name in _STANDING)
                _note(session, obj.id, obj in session.new or moved, group)
                if state.attrs["is_active"].history.has_changes():
                    session.info.setdefault(_RECOUNT, set()).add(obj.id)
        elif isinstance(obj, ScoreHistory):
            _note(session, obj.assessment_id, True)
            if obj in session.new:
                session.info.setdefault(_APPENDED, {})[obj.id] = obj.assessment_id
            else:  # snapshots are appended, never changed: recount the months of one that was
                session.info.setdefault(_RECOUNT, set()).add(obj.assessment_id)
        elif isinstance(obj, QuestionnaireResponse):
            _note(session, obj.assessment_id, False)


@event.listens_for(Session, "before_commit")
def _follow(session: Session) -> None:
    session.flush()
    touched: dict[int, bool] = session.info.pop(_TOUCHED, {})
    known: dict[int, Group] = session.info.pop(_GROUPS, {})
    gone: set[Group] = session.info.pop(_GONE, set())
    appended: dict[int, int] = session.info.pop(_APPENDED, {})
    recount: set[int] = session.info.pop(_RECOUNT, set())
    if touched or gone:
        refresh(session, touched, known, gone, appended=appended, recount=recount)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Transaction) -> None:
    if transaction.parent is None:  # the unit of work ended (commit or rollback)
        for key in _KEYS:
            session.info.pop(key, None)


def refresh(
    session: Session,
    touched: dict[int, bool],
    known: dict[int, Group] | None = None,
    gone: Iterable[Group] = (),
    *,
    appended: dict[int, int] | None = None,
    recount: Iterable[int] | None = None,
) -> None:
    """Recompute the read model of the assessments given (id -> whether their snapshots or
    standing changed; `known`: their organisation and version where already known) and of
    their organisations' versions: answers alone move only the failed critical count and the
    status roll-up. The monthly rows add what the `appended` snapshots (id -> assessment id)
    change, or are recounted for the versions of deleted (`gone`) and `recount` assessments
    (None: recount every version moved)."""
    groups = dict(known or {})
    unknown = [aid for aid in touched if aid not in groups]
    if unknown:
        by = (Assessment.id, Assessment.organization_id, Assessment.questionnaire_id)
        for aid, org, q in session.execute(select(*by).where(Assessment.id.in_(unknown))):
            groups[aid] = (org, q)
    touched = {aid: h for aid, h in touched.items() if aid in groups}  # deleted since
    history = sorted(aid for aid, h in touched.items() if h)
    answers = sorted(aid for aid, h in touched.items() if not h)
    moved = {groups[aid] for aid in history} | set(gone)
    if session.get_bind().dialect.name == "postgresql":  # one writer per organisation at a time
        orgs = {org for org, _ in set(groups.values()) | moved}
        session.execute(
            select(Organization.id)
            .where(Organization.id.in_(orgs))
            .order_by(Organization.id)
            .with_for_update()
        )
    if history:
        session.execute(_assessment_columns(Assessment.id.in_(history), derived_columns()))
        session.execute(
            delete(AssessmentSection).where(AssessmentSection.assessment_id.in_(history))
        )
        session.execute(_sections_insert(session, ScoreHistory.assessment_id.in_(history)))
    if answers:
        failed = {"failed_critical": derived_columns()["failed_critical"]}
        session.execute(_assessment_columns(Assessment.id.in_(answers), failed))
    redo = None if recount is None else {groups[a] for a in recount if a in groups} | set(gone)
    for group in sorted({groups[aid] for aid in touched} | moved):
        added = [sid for sid, aid in (appended or {}).items() if groups.get(aid) == group]
        full = redo is None or group in redo
        rebuild_group(session, *group, history=group in moved, appended=None if full else added)


def rebuild_group(
    session: Session, org: int, q: int, *, history: bool = True, appended: list[int] | None = None
) -> None:
    """Recompute the roll-up rows of one organisation's version; with history also its
    benchmark units and their counts, and its monthly rows: recounted from its snapshots, or,
    given the snapshots `appended` (each the newest of its assessment), added to."""
    # SQLite, without ANALYZE statistics, would read the version's index (every assessment on
    # it) rather than the organisation's; "+ 0" keeps the version out of the index choice.
    mine = (Assessment.organization_id == org) & (Assessment.questionnaire_id + 0 == q)
    tables: list[Any] = [StatusRollup]
    if history:
        session.execute(_benchmark_flags(mine))
        session.execute(add_to_totals(session, org, q, -1))  # the counts about to go
        tables.append(BenchmarkCount)
        if appended is None or not newest_of_theirs(session, appended):
            tables.append(ScoreMonth)
        elif appended:
            session.execute(add_to_months(session, appended))
    for table in tables:
        session.execute(_clear(table, org, q))
        session.execute(_fill(table, mine))
    if history:
        session.execute(add_to_totals(session, org, q, 1))
        session.execute(
            delete(BenchmarkTotal).where(
                BenchmarkTotal.questionnaire_id == q, BenchmarkTotal.products == 0
            )
        )


def rebuild(session: Session) -> None:
    """Recompute the whole read model from the source tables."""
    session.flush()
    for key in _KEYS:  # everything is recomputed below
        session.info.pop(key, None)
    session.execute(_assessment_columns(true(), derived_columns()))
    session.execute(delete(AssessmentSection))
    session.execute(_sections_insert(session, true()))
    session.execute(_benchmark_flags(true()))
    for table in ROLLUP_ROWS:
        session.execute(delete(table))
        session.execute(_fill(table, true()))
    session.execute(delete(BenchmarkTotal))
    session.execute(
        insert(BenchmarkTotal).from_select(
            ["questionnaire_id", "section_key", "score", "products"], total_rows()
        )
    )
    if session.get_bind().dialect.name == "postgresql":  # planner statistics of what it wrote
        for table in (Assessment, AssessmentSection, BenchmarkTotal, *ROLLUP_ROWS):
            session.execute(text(f"ANALYZE {table.__tablename__}"))


def _clear(table: Any, org: int, q: int) -> Delete:
    return delete(table).where(table.organization_id == org, table.questionnaire_id == q)


def _assessment_columns(where: ColumnElement[bool], columns: dict[str, Any]) -> Any:
    # updated_at is the assessment's own: the read model must not move it
    return (
        update(Assessment)
        .where(where)
        .values(**columns, updated_at=Assessment.updated_at)
        .execution_options(synchronize_session=False)
    )


def _benchmark_flags(where: ColumnElement[bool]) -> Any:
    flag = Assessment.id.in_(benchmark_units(where))
    return (
        update(Assessment)
        .where(where, Assessment.is_benchmark != flag)  # only the rows whose standing changed
        .values(is_benchmark=flag, updated_at=Assessment.updated_at)
        .execution_options(synchronize_session=False)
    )


def _sections_insert(session: Session, where: ColumnElement[bool]) -> Any:
    return insert(AssessmentSection).from_select(
        ["assessment_id", "section_key", "score"], newest_sections(session, where)
    )


# Each roll-up table and the statement computing its rows from the source tables.
ROLLUP_ROWS: dict[Any, Callable[[ColumnElement[bool]], Any]] = {
    StatusRollup: status_rows,
    BenchmarkCount: benchmark_rows,
    ScoreMonth: month_rows,
}


def _fill(table: Any, where: ColumnElement[bool]) -> Any:
    columns = [c.name for c in table.__table__.columns]
    return insert(table).from_select(columns, ROLLUP_ROWS[table](where))
