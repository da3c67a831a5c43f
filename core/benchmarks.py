"""Benchmarks: the latest section scores of one questionnaire version, against peers.

The benchmark unit is a product's newest scored assessment on the version, read at its newest
snapshot (MAX(id) per assessment). SQL returns value counts (GROUP BY section, score), from which
exact quantiles and percentiles are read in Python, so no per-assessment rows leave the database.
Versions are never mixed: their sections and questions differ.

Clients see their own products against the anonymous peer distribution: only quantiles, and only
when the peer group holds at least MIN_PEER_ASSESSMENTS assessments from MIN_PEER_ORGANIZATIONS
organisations, so no other organisation's name or numbers can be read from it.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
from sqlalchemy import Float, Select, cast, distinct, func, select, true
from sqlalchemy.orm import Session

from core.access import Actor, require_role
from core.analytics import ANALYTICS_ROLES, Filters, org_filter, scope, seen_by
from core.models import Assessment, Organization, Product, Questionnaire, ScoreHistory, Section
from core.products import get_product
from core.settings import get_settings

MIN_PEER_ASSESSMENTS = 5
MIN_PEER_ORGANIZATIONS = 3
QUANTILES = {"p05": 0.05, "q1": 0.25, "median": 0.5, "q3": 0.75, "p95": 0.95}
DIST_COLUMNS = ["section", "title", "assessments", "mean", *QUANTILES]
OVERALL = "overall"


def versions(session: Session, actor: Actor) -> list[dict]:
    """Questionnaire versions with scored assessments in the actor's scope, most used first."""
    require_role(actor, *ANALYTICS_ROLES)
    stmt = scope(select(Questionnaire.id, Questionnaire.title, Questionnaire.version,
                        func.count().label("assessments"))
                 .join(Assessment, Assessment.questionnaire_id == Questionnaire.id)
                 .where(Assessment.latest_score.is_not(None)), actor, Filters(),
                 seen_by(actor, get_settings(session)))
    rows = session.execute(stmt.group_by(Questionnaire.id, Questionnaire.title, Questionnaire.version)
                           .order_by(func.count().desc(), Questionnaire.id)).all()
    return [dict(r._mapping) for r in rows]


def _peers(filters: Filters, questionnaire_id: int) -> Select:
    """Ids of each product's newest scored assessment on the version, in the industry and tier
    filters, across every organisation (only aggregates of it ever leave this module)."""
    stmt = (select(func.max(Assessment.id))
            .where(Assessment.is_active, Assessment.questionnaire_id == questionnaire_id,
                   Assessment.latest_score.is_not(None))
            .group_by(Assessment.product_id))
    return org_filter(stmt, Filters(industry=filters.industry, tier=filters.tier),
                      Assessment.organization_id)


def _section_pairs(session: Session):
    """(key, numeric value) of each entry of score_history.section_scores, as a lateral table."""
    if session.get_bind().dialect.name == "postgresql":
        pairs = func.json_each_text(ScoreHistory.section_scores).table_valued("key", "value")
        return pairs, pairs.c.key, cast(pairs.c.value, Float)
    pairs = func.json_each(ScoreHistory.section_scores).table_valued("key", "value")
    return pairs, pairs.c.key, pairs.c.value


def _section_counts(session: Session, assessments: Select) -> list[tuple]:
    """(section key, score, how many) over the newest snapshot of each assessment given."""
    latest = (select(func.max(ScoreHistory.id).label("id"))
              .where(ScoreHistory.assessment_id.in_(assessments))
              .group_by(ScoreHistory.assessment_id).subquery())
    pairs, key, value = _section_pairs(session)
    stmt = (select(key, value, func.count()).select_from(ScoreHistory)
            .join(latest, latest.c.id == ScoreHistory.id).join(pairs, true())
            .where(value.is_not(None)).group_by(key, value))
    return session.connection().execute(stmt).all()


def _withheld(session: Session, actor: Actor, peers: Select) -> str | None:
    """Why a client may not see this peer group (too small to stay anonymous), or None."""
    if not actor.is_client:
        return None
    n, orgs = session.execute(select(func.count(), func.count(distinct(Assessment.organization_id)))
                              .where(Assessment.id.in_(peers))).one()
    if n < MIN_PEER_ASSESSMENTS or orgs < MIN_PEER_ORGANIZATIONS:
        return (f"The peer group is too small to compare anonymously (it needs at least "
                f"{MIN_PEER_ASSESSMENTS} scored products from {MIN_PEER_ORGANIZATIONS} "
                "organisations). Widen the industry or tier filter.")
    return None


def quantile(values: np.ndarray, counts: np.ndarray, q: float) -> float:
    """The q-quantile (linear interpolation, as pandas) of sorted values repeated counts times."""
    ends = np.cumsum(counts)
    at = lambda i: values[np.searchsorted(ends, i, side="right")]
    h = (ends[-1] - 1) * q
    low, high = int(np.floor(h)), int(np.ceil(h))
    return float(at(low) + (h - low) * (at(high) - at(low)))


def percentile(values: np.ndarray, counts: np.ndarray, x: float) -> float:
    """Mid-rank percentile of x: the share below it plus half the share equal to it, in %."""
    below, equal = counts[values < x].sum(), counts[values == x].sum()
    return float(100.0 * (below + 0.5 * equal) / counts.sum())


def _stats(key: str, title: str, pairs: list[tuple]) -> dict:
    values, counts = (np.array(v, dtype=float) for v in zip(*sorted(pairs)))
    return {"section": key, "title": title, "assessments": int(counts.sum()),
            "mean": float((values * counts).sum() / counts.sum()),
            **{name: quantile(values, counts, q) for name, q in QUANTILES.items()}}


def _titles(session: Session, questionnaire_id: int) -> dict[str, str]:
    rows = session.execute(select(Section.key, Section.title).where(
        Section.questionnaire_id == questionnaire_id).order_by(Section.position)).all()
    return dict(rows)


def peer_distribution(session: Session, actor: Actor, filters: Filters,
                      questionnaire_id: int) -> dict:
    """{"sections": DIST_COLUMNS per section (overall first, then bank order), "counts":
    {section: [(score, how many)]}, "withheld": reason or None}; empty while withheld."""
    require_role(actor, *ANALYTICS_ROLES)
    peers = _peers(filters, questionnaire_id)
    withheld = _withheld(session, actor, peers)
    if withheld:
        return {"sections": pd.DataFrame(columns=DIST_COLUMNS), "counts": {}, "withheld": withheld}
    counts: dict[str, list] = {OVERALL: session.connection().execute(
        select(Assessment.latest_score, func.count()).where(Assessment.id.in_(peers))
        .group_by(Assessment.latest_score)).all()}
    for key, value, n in _section_counts(session, peers):
        counts.setdefault(key, []).append((value, n))
    titles = {OVERALL: "Overall", **_titles(session, questionnaire_id)}
    rows = [_stats(k, titles[k], counts[k]) for k in titles if counts.get(k)]
    return {"sections": pd.DataFrame(rows, columns=DIST_COLUMNS),
            "counts": {k: [tuple(p) for p in v] for k, v in counts.items()}, "withheld": None}


def product_scores(session: Session, actor: Actor, product_id: int,
                   questionnaire_id: int) -> pd.DataFrame:
    """A product's newest scored assessment on the version, at its newest snapshot: section,
    title, score (overall first, then bank order); empty when it has none."""
    require_role(actor, *ANALYTICS_ROLES)
    get_product(session, actor, product_id)
    row = session.execute(
        select(ScoreHistory.overall_score, ScoreHistory.section_scores)
        .join(Assessment, Assessment.id == ScoreHistory.assessment_id)
        .where(Assessment.product_id == product_id, Assessment.is_active,
               Assessment.questionnaire_id == questionnaire_id, Assessment.latest_score.is_not(None))
        .order_by(Assessment.id.desc(), ScoreHistory.id.desc()).limit(1)).first()
    if row is None:
        return pd.DataFrame(columns=["section", "title", "score"])
    scores = {OVERALL: row.overall_score, **(row.section_scores or {})}
    titles = {OVERALL: "Overall", **_titles(session, questionnaire_id)}
    return pd.DataFrame([(k, t, scores.get(k)) for k, t in titles.items()],
                        columns=["section", "title", "score"])


def rank_against(scores: pd.DataFrame, peers: dict) -> pd.DataFrame:
    """The product's scores with their mid-rank percentile among the peers (None where either
    side has no score)."""
    ranks = []
    for key, score in zip(scores["section"], scores["score"]):
        pairs = peers["counts"].get(key)
        ranks.append(percentile(*(np.array(v, dtype=float) for v in zip(*pairs)), score)
                     if pairs and score is not None and not pd.isna(score) else None)
    return scores.assign(percentile=ranks)


def heatmap_frame(session: Session, actor: Actor, filters: Filters, questionnaire_id: int, *,
                  limit: int = 40) -> tuple[pd.DataFrame, int]:
    """Section scores of the weakest `limit` products the actor may read within the filters
    (newest scored assessment on the version), long form: product, section, title, score;
    and how many products there are in all."""
    require_role(actor, *ANALYTICS_ROLES)
    mine = scope(select(func.max(Assessment.id)).where(Assessment.questionnaire_id == questionnaire_id,
                                                       Assessment.latest_score.is_not(None)),
                 actor, filters, seen_by(actor, get_settings(session))).group_by(Assessment.product_id)
    total = session.scalar(select(func.count()).select_from(mine.subquery()))
    weakest = (select(Assessment.id).where(Assessment.id.in_(mine))  # latest_score = newest snapshot's
               .order_by(Assessment.latest_score, Assessment.id).limit(limit))
    latest = (select(func.max(ScoreHistory.id)).where(ScoreHistory.assessment_id.in_(weakest))
              .group_by(ScoreHistory.assessment_id))
    rows = session.execute(
        select(Product.name, Organization.name, ScoreHistory.overall_score, ScoreHistory.section_scores)
        .join(Assessment, Assessment.id == ScoreHistory.assessment_id)
        .join(Product, Product.id == Assessment.product_id)
        .join(Organization, Organization.id == Assessment.organization_id)
        .where(ScoreHistory.id.in_(latest))
        .order_by(ScoreHistory.overall_score, Product.name).limit(limit)).all()
    titles = _titles(session, questionnaire_id)
    out = [(product, org, key, title, _number((sections or {}).get(key)))
           for product, org, _, sections in rows for key, title in titles.items()]
    return pd.DataFrame(out, columns=["product", "organization", "section", "title", "score"]), int(total)


def _number(value):
    return None if value is None else float(json.loads(value) if isinstance(value, str) else value)


def peer_groups_frame(session: Session, actor: Actor, questionnaire_id: int) -> pd.DataFrame:
    """Per organisation industry and tier: organisations, scored products and the quartiles of
    their latest overall score on the version (for clients, only groups large enough to stay
    anonymous)."""
    require_role(actor, *ANALYTICS_ROLES)
    peers = _peers(Filters(), questionnaire_id)
    base = (select(Organization.industry, Organization.tier)
            .join(Assessment, Assessment.organization_id == Organization.id)
            .where(Assessment.id.in_(peers)))
    sizes = session.execute(base.add_columns(func.count(), func.count(distinct(Organization.id)))
                            .group_by(Organization.industry, Organization.tier)).all()
    counts: dict[tuple, list] = {}
    for industry, tier, score, n in session.connection().execute(
            base.add_columns(Assessment.latest_score, func.count())
            .group_by(Organization.industry, Organization.tier, Assessment.latest_score)).all():
        counts.setdefault((industry, tier), []).append((score, n))
    out = []
    for industry, tier, n, orgs in sorted(sizes):
        if actor.is_client and (n < MIN_PEER_ASSESSMENTS or orgs < MIN_PEER_ORGANIZATIONS):
            continue
        stats = _stats("", "", counts[(industry, tier)])
        out.append((industry or "(none)", tier, orgs, n, stats["q1"], stats["median"], stats["q3"]))
    return pd.DataFrame(out, columns=["industry", "tier", "organizations", "products", "q1",
                                      "median", "q3"])
