"""Benchmarks: the latest section scores of one questionnaire version, against peers.

The benchmark unit is a product's newest scored assessment on the version, read at its newest
snapshot (MAX(id) per assessment). SQL returns value counts (GROUP BY section, score), from which
quantiles and percentiles are read in Python, so no per-assessment rows leave the database.
Versions are never mixed: their sections and questions differ.

Staff read exact figures. A client's peers are the other organisations' products only (counting
its own would let it move the quantiles at will), every group it sees (each filter choice, each
section, each row of the peer groups) holds at least `benchmark_min_peers` of them from at least
MIN_PEER_ORGANIZATIONS other organisations, and its figures are coarsened by core.peer_stats.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from sqlalchemy import Float, Select, cast, distinct, func, select, true
from sqlalchemy.orm import Session

from core.access import ROLES, Actor, require_role
from core.filters import Filters, org_filter, scope, seen_by
from core.models import Assessment, Organization, Product, Questionnaire, ScoreHistory, Section
from core.peer_stats import (
    MIN_PEER_ORGANIZATIONS,
    QUANTILES,
    coarse_stats,
    exact_stats,
    percentile,
    quarter,
    refusal,
)
from core.products import get_product
from core.settings import get_settings

DIST_COLUMNS = ["section", "title", "assessments", "mean", *QUANTILES]
OVERALL = "overall"


def versions(session: Session, actor: Actor) -> list[dict]:
    """Questionnaire versions with scored assessments in the actor's scope, most used first."""
    require_role(actor, *ROLES)
    stmt = scope(
        select(
            Questionnaire.id,
            Questionnaire.title,
            Questionnaire.version,
            func.count().label("assessments"),
        )
        .join(Assessment, Assessment.questionnaire_id == Questionnaire.id)
        .where(Assessment.latest_score.is_not(None)),
        actor,
        Filters(),
        seen_by(actor, get_settings(session)),
    )
    rows = session.execute(
        stmt.group_by(Questionnaire.id, Questionnaire.title, Questionnaire.version).order_by(
            func.count().desc(), Questionnaire.id
        )
    ).all()
    return [dict(r._mapping) for r in rows]


def _peers(actor: Actor, filters: Filters, questionnaire_id: int) -> Select:
    """Ids of each product's newest scored assessment on the version, in the industry and tier
    filters, across every organisation but a client's own (only aggregates of it ever leave this
    module)."""
    stmt = (
        select(func.max(Assessment.id))
        .where(
            Assessment.is_active,
            Assessment.questionnaire_id == questionnaire_id,
            Assessment.latest_score.is_not(None),
        )
        .group_by(Assessment.product_id)
    )
    if actor.is_client:  # with its own products inside, adding some that score 0 would shift
        stmt = stmt.where(Assessment.organization_id != actor.organization_id)  # every quantile
    return org_filter(
        stmt, Filters(industry=filters.industry, tier=filters.tier), Assessment.organization_id
    )


def _section_pairs(session: Session):
    """(key, numeric value) of each entry of score_history.section_scores, as a lateral table."""
    if session.get_bind().dialect.name == "postgresql":
        pairs = func.json_each_text(ScoreHistory.section_scores).table_valued("key", "value")
        return pairs, pairs.c.key, cast(pairs.c.value, Float)
    pairs = func.json_each(ScoreHistory.section_scores).table_valued("key", "value")
    return pairs, pairs.c.key, pairs.c.value


def _section_counts(session: Session, assessments: Select) -> list[tuple]:
    """(section key, score, how many) over the newest snapshot of each assessment given."""
    latest = (
        select(func.max(ScoreHistory.id).label("id"))
        .where(ScoreHistory.assessment_id.in_(assessments))
        .group_by(ScoreHistory.assessment_id)
        .subquery()
    )
    pairs, key, value = _section_pairs(session)
    stmt = (
        select(key, value, func.count())
        .select_from(ScoreHistory)
        .join(latest, latest.c.id == ScoreHistory.id)
        .join(pairs, true())
        .where(value.is_not(None))
        .group_by(key, value)
    )
    return session.connection().execute(stmt).all()


def min_peers(session: Session, actor: Actor) -> int | None:
    """How many peers a group a client sees must hold (benchmark_min_peers); None for staff,
    who read every score anyway and get exact figures."""
    return get_settings(session)["benchmark_min_peers"] if actor.is_client else None


WITHHELD = {
    "small": "The peer group is too small to compare anonymously (it needs at least {k} scored "
    "products from {orgs} other organisations). Widen the industry or tier filter.",
    "near": "This peer group differs from a wider one by too few products to stay anonymous. "
    "Widen or change the industry or tier filter.",
}
ORG_COLUMNS = (Organization.industry, Organization.tier, Assessment.organization_id)


def _cells(session: Session, actor: Actor, questionnaire_id: int) -> dict[str, list[tuple]]:
    """(industry, tier, organisation, products) of a client's peers in every industry and tier,
    overall and per section with a score: what core.peer_stats.refusal decides on."""
    peers = _peers(actor, Filters(), questionnaire_id)
    overall = session.execute(
        select(*ORG_COLUMNS, func.count())
        .join(Organization, Organization.id == Assessment.organization_id)
        .where(Assessment.id.in_(peers))
        .group_by(*ORG_COLUMNS)
    ).all()
    latest = (
        select(func.max(ScoreHistory.id).label("id"))
        .where(ScoreHistory.assessment_id.in_(peers))
        .group_by(ScoreHistory.assessment_id)
        .subquery()
    )
    pairs, key, value = _section_pairs(session)
    stmt = (
        select(key, *ORG_COLUMNS, func.count())
        .select_from(ScoreHistory)
        .join(latest, latest.c.id == ScoreHistory.id)
        .join(Assessment, Assessment.id == ScoreHistory.assessment_id)
        .join(Organization, Organization.id == Assessment.organization_id)
        .join(pairs, true())
        .where(value.is_not(None))
        .group_by(key, *ORG_COLUMNS)
    )
    cells: dict[str, list[tuple]] = {OVERALL: [tuple(r) for r in overall]}
    for section, *cell in session.execute(stmt):
        cells.setdefault(section, []).append(tuple(cell))
    return cells


def _stats(key: str, title: str, pairs: list[tuple], k: int | None) -> dict:
    """A row of DIST_COLUMNS: exact for staff (k None), coarsened for clients."""
    values, counts = (np.array(v, dtype=float) for v in zip(*sorted(pairs), strict=False))
    stats = exact_stats(values, counts) if k is None else coarse_stats(values, counts, k)
    return {"section": key, "title": title, **stats}


def _titles(session: Session, questionnaire_id: int) -> dict[str, str]:
    rows = session.execute(
        select(Section.key, Section.title)
        .where(Section.questionnaire_id == questionnaire_id)
        .order_by(Section.position)
    ).all()
    return dict(rows)


def _refused(cells: dict, key: str, filters: Filters, k: int | None) -> str | None:
    """Why a client may not see one section (or the overall) of the filtered peers, or None."""
    if k is None:
        return None
    return refusal(cells.get(key, []), filters.industry or None, filters.tier or None, k)


def _value_counts(session: Session, peers: Select) -> dict[str, list]:
    """{section or OVERALL: [(score, how many)]} over the peers."""
    counts: dict[str, list] = {
        OVERALL: session.connection()
        .execute(
            select(Assessment.latest_score, func.count())
            .where(Assessment.id.in_(peers))
            .group_by(Assessment.latest_score)
        )
        .all()
    }
    for key, value, n in _section_counts(session, peers):
        counts.setdefault(key, []).append((value, n))
    return counts


def peer_distribution(
    session: Session, actor: Actor, filters: Filters, questionnaire_id: int
) -> dict:
    """{"sections": DIST_COLUMNS per section (overall first, then bank order), "counts":
    {section: [(score, how many)]} (staff only), "size": how many peers, as text, "exact": True
    for staff, "withheld": reason or None}; empty while withheld."""
    require_role(actor, *ROLES)
    k = min_peers(session, actor)
    cells = _cells(session, actor, questionnaire_id) if k is not None else {}
    reason = _refused(cells, OVERALL, filters, k)
    if reason:
        return {
            "sections": pd.DataFrame(columns=DIST_COLUMNS),
            "counts": {},
            "size": "",
            "exact": False,
            "withheld": WITHHELD[reason].format(k=k, orgs=MIN_PEER_ORGANIZATIONS),
        }
    counts = _value_counts(session, _peers(actor, filters, questionnaire_id))
    titles = {OVERALL: "Overall", **_titles(session, questionnaire_id)}
    rows = [
        _stats(key, titles[key], counts[key], k)
        for key in titles
        if counts.get(key) and not _refused(cells, key, filters, k)
    ]
    size = rows[0]["assessments"] if rows else ""  # overall: a count for staff, a band for clients
    # A client's value counts would be the peers' scores themselves: only staff get them.
    return {
        "sections": pd.DataFrame(rows, columns=DIST_COLUMNS),
        "counts": {key: [tuple(p) for p in v] for key, v in counts.items()} if k is None else {},
        "size": f"{size:,}" if isinstance(size, int) else size,
        "exact": k is None,
        "withheld": None,
    }


def product_scores(
    session: Session, actor: Actor, product_id: int, questionnaire_id: int
) -> pd.DataFrame:
    """A product's newest scored assessment on the version, at its newest snapshot: section,
    title, score (overall first, then bank order); empty when it has none."""
    require_role(actor, *ROLES)
    get_product(session, actor, product_id)
    row = session.execute(
        select(ScoreHistory.overall_score, ScoreHistory.section_scores)
        .join(Assessment, Assessment.id == ScoreHistory.assessment_id)
        .where(
            Assessment.product_id == product_id,
            Assessment.is_active,
            Assessment.questionnaire_id == questionnaire_id,
            Assessment.latest_score.is_not(None),
        )
        .order_by(Assessment.id.desc(), ScoreHistory.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return pd.DataFrame(columns=["section", "title", "score"])
    scores = {OVERALL: row.overall_score, **(row.section_scores or {})}
    titles = {OVERALL: "Overall", **_titles(session, questionnaire_id)}
    return pd.DataFrame(
        [(k, t, scores.get(k)) for k, t in titles.items()], columns=["section", "title", "score"]
    )


def rank_against(scores: pd.DataFrame, peers: dict) -> pd.DataFrame:
    """The product's scores with their standing among the peers, as text: the exact mid-rank
    percentile for staff, for clients the quarter the published quartiles put it in ("" where
    either side has no score); and the percentile itself (staff only, else None)."""
    ranks, standings = [], []
    quartiles = peers["sections"].set_index("section")
    for key, score in zip(scores["section"], scores["score"], strict=False):
        pairs = peers["counts"].get(key)
        known = score is not None and not pd.isna(score)
        rank = (
            percentile(*(np.array(v, dtype=float) for v in zip(*pairs, strict=False)), score)
            if pairs and known
            else None
        )
        ranks.append(rank)
        if rank is not None:
            standings.append(f"Percentile {rank:.0f}")
        elif known and key in quartiles.index and not peers["exact"]:
            standings.append(quarter(score, *quartiles.loc[key, ["q1", "median", "q3"]]))
        else:
            standings.append("")
    return scores.assign(percentile=ranks, standing=standings)


def heatmap_frame(
    session: Session, actor: Actor, filters: Filters, questionnaire_id: int, *, limit: int = 40
) -> tuple[pd.DataFrame, int]:
    """Section scores of the weakest `limit` products the actor may read within the filters
    (newest scored assessment on the version), long form: product, section, title, score;
    and how many products there are in all."""
    require_role(actor, *ROLES)
    mine = scope(
        select(func.max(Assessment.id)).where(
            Assessment.questionnaire_id == questionnaire_id, Assessment.latest_score.is_not(None)
        ),
        actor,
        filters,
        seen_by(actor, get_settings(session)),
    ).group_by(Assessment.product_id)
    total = session.scalar(select(func.count()).select_from(mine.subquery()))
    weakest = (
        select(Assessment.id)
        .where(Assessment.id.in_(mine))  # latest_score = newest snapshot's
        .order_by(Assessment.latest_score, Assessment.id)
        .limit(limit)
    )
    latest = (
        select(func.max(ScoreHistory.id))
        .where(ScoreHistory.assessment_id.in_(weakest))
        .group_by(ScoreHistory.assessment_id)
    )
    rows = session.execute(
        select(
            Product.name, Organization.name, ScoreHistory.overall_score, ScoreHistory.section_scores
        )
        .join(Assessment, Assessment.id == ScoreHistory.assessment_id)
        .join(Product, Product.id == Assessment.product_id)
        .join(Organization, Organization.id == Assessment.organization_id)
        .where(ScoreHistory.id.in_(latest))
        .order_by(ScoreHistory.overall_score, Product.name)
        .limit(limit)
    ).all()
    titles = _titles(session, questionnaire_id)
    out = [
        (product, org, key, title, _number((sections or {}).get(key)))
        for product, org, _, sections in rows
        for key, title in titles.items()
    ]
    return pd.DataFrame(out, columns=["product", "organization", "section", "title", "score"]), int(
        total
    )


def _number(value):
    return None if value is None else float(json.loads(value) if isinstance(value, str) else value)


def peer_groups_frame(session: Session, actor: Actor, questionnaire_id: int) -> pd.DataFrame:
    """Per organisation industry and tier: organisations, scored products and the quartiles of
    their latest overall score on the version (for clients: other organisations' products, only
    groups large enough to stay anonymous, coarsened like peer_distribution, no organisations)."""
    require_role(actor, *ROLES)
    k = min_peers(session, actor)
    peers = _peers(actor, Filters(), questionnaire_id)
    base = (
        select(Organization.industry, Organization.tier)
        .join(Assessment, Assessment.organization_id == Organization.id)
        .where(Assessment.id.in_(peers))
    )
    sizes = session.execute(
        base.add_columns(func.count(), func.count(distinct(Organization.id))).group_by(
            Organization.industry, Organization.tier
        )
    ).all()
    counts: dict[tuple, list] = {}
    for industry, tier, score, n in (
        session.connection()
        .execute(
            base.add_columns(Assessment.latest_score, func.count()).group_by(
                Organization.industry, Organization.tier, Assessment.latest_score
            )
        )
        .all()
    ):
        counts.setdefault((industry, tier), []).append((score, n))
    cells = _cells(session, actor, questionnaire_id)[OVERALL] if k is not None else []
    out = []
    for industry, tier, _n, orgs in sorted(sizes):
        if k is None or refusal(cells, industry, tier, k) is None:
            stats = _stats("", "", counts[(industry, tier)], k)
            out.append(
                (
                    industry or "(none)",
                    tier,
                    orgs,
                    stats["assessments"],
                    stats["q1"],
                    stats["median"],
                    stats["q3"],
                )
            )
    frame = pd.DataFrame(
        out, columns=["industry", "tier", "organizations", "products", "q1", "median", "q3"]
    )
    return frame if k is None else frame.drop(columns=["organizations"])  # counts: see peer_stats
