"""The synthetic benchmark data set: row counts, consistency, the audit chain, the CLI."""

import itertools

import pytest
from sqlalchemy import func, select

from core import db
from core.access import SYSTEM
from core.assurance import ASSURED, share_of
from core.assurance_view import live_assurance
from core.audit_chain import find_problem
from core.cli import main
from core.errors import SecureSphereError
from core.models import (
    Assessment,
    AuditLog,
    LeadComment,
    Organization,
    Product,
    ProductStatus,
    Question,
    QuestionnaireResponse,
    ScoreHistory,
    SignInAttempt,
    User,
)
from core.organizations import create_organization
from core.synthetic import BANK_KEY, seed_synthetic, synthetic_bank_data
from core.synthetic_stories import STATUS_WEIGHTS


def _count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_small_data_set_has_the_right_row_counts_and_a_sound_audit_chain(db_url):
    with db.reading(db_url) as s:
        audit_before = _count(s, AuditLog)
    report = seed_synthetic(db_url, products=12, questions=23, seed=4, organizations=4)
    counts = report.counts
    assert counts["questionnaire_responses"] == 12 * 23 and counts["score_history"] == 12 * 5
    with db.reading(db_url) as s:
        synthetic = Organization.name.like("Synthetic Org%")
        assert _count(s, Organization, synthetic) == 4
        orgs = select(Organization.id).where(synthetic)
        assert _count(s, Product, Product.organization_id.in_(orgs)) == 12
        assert _count(s, Assessment, Assessment.organization_id.in_(orgs)) == 12
        assert _count(s, QuestionnaireResponse) == 12 * 23
        assert _count(s, ScoreHistory) == 12 * 5
        assert _count(s, ProductStatus) == counts["product_statuses"] > 12
        assert _count(s, LeadComment) == counts["lead_comments"]
        assert _count(s, SignInAttempt) == counts["sign_in_attempts"] > 0
        assert _count(s, User, User.username.like("syn-%"), User.is_active) == 0
        # the bank import and one closing row: every other synthetic row carries no audit row
        assert _count(s, AuditLog) == audit_before + 2
        assert find_problem(s) is None
        statuses = set(
            s.scalars(select(Assessment.status).where(Assessment.organization_id.in_(orgs)))
        )
        assert statuses <= set(STATUS_WEIGHTS)


def test_summary_columns_match_the_newest_snapshot(db_url):
    seed_synthetic(db_url, products=15, questions=20, seed=9, organizations=3)
    newest = select(func.max(ScoreHistory.id)).group_by(ScoreHistory.assessment_id)
    with db.reading(db_url) as s:
        rows = s.execute(
            select(
                Assessment.latest_score,
                Assessment.latest_band,
                ScoreHistory.overall_score,
                ScoreHistory.band,
                ScoreHistory.section_scores,
            )
            .join(ScoreHistory, ScoreHistory.assessment_id == Assessment.id)
            .where(ScoreHistory.id.in_(newest))
        ).all()
        times = s.execute(
            select(ScoreHistory.assessment_id, ScoreHistory.created_at).order_by(
                ScoreHistory.assessment_id, ScoreHistory.id
            )
        ).all()
    assert len(rows) == 15
    for latest, band, overall, snap_band, sections in rows:
        assert latest == pytest.approx(overall) and band == snap_band
        assert len(sections) == 10
    for (a, t), (b, u) in itertools.pairwise(times):  # snapshot ids grow with time per assessment
        assert a != b or t <= u


def test_summary_shares_are_what_the_answers_give(db_url):
    """The accepted and assured shares the loader writes are the live ones core computes."""
    seed_synthetic(db_url, products=8, questions=20, seed=4, organizations=2)
    with db.reading(db_url) as s:
        assessments = s.scalars(select(Assessment).order_by(Assessment.id)).all()
        assert any(a.latest_score is not None for a in assessments)
        for a in assessments:
            live = live_assurance(s, SYSTEM, a.id).overall
            for stored, levels in ((a.accepted_share, ["accepted"]), (a.assured_share, ASSURED)):
                want = share_of(live, levels)
                assert stored is want is None or stored == pytest.approx(want)


def test_explicit_ids_leave_the_id_sequences_usable(db_url):
    seed_synthetic(db_url, products=5, questions=10, seed=1, organizations=2)
    with db.transaction(db_url) as s:
        org = create_organization(s, SYSTEM, name="Made after seeding")
    with db.reading(db_url) as s:
        assert org.id == s.scalar(select(func.max(Organization.id)))


def test_seeding_twice_is_refused(db_url):
    seed_synthetic(db_url, products=3, questions=10, organizations=2)
    with pytest.raises(SecureSphereError, match="already present"):
        seed_synthetic(db_url, products=3, questions=10, organizations=2)
    with pytest.raises(SecureSphereError, match="at least 1"):
        seed_synthetic(db_url, products=0)


def test_bank_spreads_questions_over_ten_sections():
    data = synthetic_bank_data(23)
    assert data["key"] == BANK_KEY and len(data["sections"]) == 10
    assert sum(len(s["questions"]) for s in data["sections"]) == 23
    assert [len(s["questions"]) for s in synthetic_bank_data(4)["sections"]] == [1, 1, 1, 1]


def test_cli_seed_synthetic_prints_rows_per_second(sqlite_url, env, capsys):
    env(sqlite_url)
    assert (
        main(
            [
                "seed-synthetic",
                "--products",
                "6",
                "--questions",
                "10",
                "--seed",
                "2",
                "--url",
                sqlite_url,
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "60 answers" in out and "rows/s" in out
    with db.reading(sqlite_url) as s:
        assert _count(s, Question, Question.key.like("q%")) >= 10
    assert main(["seed-synthetic", "--products", "6", "--url", sqlite_url]) == 1
    assert "already present" in capsys.readouterr().err
