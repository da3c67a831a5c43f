"""The anonymous benchmark against an attacker who solves for the peers' scores (issue 11, item 1).

The attacker (tests/support/attacker.py) gets everything a client's page receives from core:
peer_distribution, rank_against and peer_groups_frame for a client actor, and the client's own
scores. On the same data, the exact figures the benchmark published before (computed here from
the raw scores) give every peer away; what a client receives now does not.
"""

import numpy as np
import pytest
from sqlalchemy import select

from core import db
from core.access import SYSTEM
from core.errors import ValidationError
from core.filters import Filters
from core.models import Assessment, ScoreHistory, Section
from core.organizations import create_organization
from core.peer_benchmarks import peer_distribution, product_scores, rank_against
from core.peer_groups import peer_groups_frame
from core.peers import OVERALL
from core.products import create_product
from core.settings import update_setting, validate_setting
from tests.factories import baseline_id, make_actor
from tests.support.attacker import max_error, recover_difference, recover_group

OWN = (55.0, 62.0)  # the attacker's product: overall, first section
SIX = {
    "Peer A": [(23.4, 35.0), (81.3, 90.5)],
    "Peer B": [(41.7, 57.25), (66.9, 12.5)],
    "Peer C": [(48.2, 70.0)],
}
TEN = {
    "Peer A": [18.5, 34.0, 61.0, 93.5],
    "Peer B": [37.5, 52.5, 88.0],
    "Peer C": [55.0, 63.5, 77.5],
}
LONE = 47.0  # the one peer in tier_2


def _exact(scores) -> dict:
    """What the benchmark published before, from the raw scores: N, mean and five quantiles."""
    v = np.asarray(scores, dtype=float)
    return {
        "mean": v.mean(),
        **{
            k: np.quantile(v, q)
            for k, q in (("p05", 0.05), ("q1", 0.25), ("median", 0.5), ("q3", 0.75), ("p95", 0.95))
        },
    }


def _mid_rank(scores, x) -> float:
    v = np.asarray(scores)
    return 100 * ((v < x).sum() + 0.5 * (v == x).sum()) / len(v)


def _product(s, org: int, name: str, qid: int, overall: float, section: float, key: str) -> int:
    """A product whose newest assessment on the version is scored `overall`, `section` in `key`."""
    product = create_product(s, SYSTEM, organization_id=org, name=name)
    a = Assessment(
        product_id=product.id,
        questionnaire_id=qid,
        organization_id=org,
        status="approved",
        latest_score=overall,
        latest_band="Medium",
        completion=1.0,
    )
    s.add(a)
    s.flush()
    s.add(
        ScoreHistory(
            assessment_id=a.id,
            overall_score=overall,
            section_scores={key: section},
            band="Medium",
            completion=1.0,
            answered_count=1,
            total_count=1,
            trigger="approve",
            formula_version="2026.1",
        )
    )
    return product.id


def _section_key(url: str, qid: int) -> str:
    with db.reading(url) as s:
        return s.scalar(
            select(Section.key).where(Section.questionnaire_id == qid).order_by(Section.position)
        )


def _build(url: str, peers: dict, lone: float | None = None):
    """The attacker's organisation with one product, the peers' organisations (Retail, tier_1),
    and optionally one more organisation in tier_2 with a single product scoring `lone`."""
    qid = baseline_id(url)
    key = _section_key(url, qid)
    with db.transaction(url) as s:
        mine = create_organization(
            s, SYSTEM, name="Attacker Ltd", industry="Retail", tier="tier_1"
        ).id
        own = _product(s, mine, "Own App", qid, *OWN, key)
        for name, scores in peers.items():
            org = create_organization(s, SYSTEM, name=name, industry="Retail", tier="tier_1").id
            for i, score in enumerate(scores):
                overall, section = score if isinstance(score, tuple) else (score, score)
                _product(s, org, f"{name} product {i}", qid, overall, section, key)
        if lone is not None:
            org = create_organization(
                s, SYSTEM, name="Lone Peer", industry="Retail", tier="tier_2"
            ).id
            _product(s, org, "Lone product", qid, lone, lone, key)
    return make_actor(url, "client", mine), qid, own, key


def _client_view(url, actor, qid, own, filters=None):
    """Everything the benchmarking page receives from core for the client."""
    with db.reading(url) as s:
        peers = peer_distribution(s, actor, filters or Filters(), qid)
        ranked = rank_against(product_scores(s, actor, own, qid), peers)
        return peers, ranked, peer_groups_frame(s, actor, qid)


def _set_min_peers(url, value):
    with db.transaction(url) as s:
        update_setting(s, SYSTEM, "benchmark_min_peers", value)


def test_exact_figures_of_six_products_give_every_peer_away(db_url):
    """The attack works: what the benchmark published before recovers every peer's overall and
    section score (five peers, own product included in the figures, as it was)."""
    _build(db_url, SIX)
    for column in (0, 1):  # overall, then the section
        others = [p[column] for ps in SIX.values() for p in ps]
        group = [*others, OWN[column]]
        found = recover_group(_exact(group), len(group), OWN[column], _mid_rank(group, OWN[column]))
        assert max_error(found, others) < 0.01


def test_a_client_gets_nothing_of_six_peers(db_url):
    actor, qid, own, _ = _build(db_url, SIX)
    peers, ranked, groups = _client_view(db_url, actor, qid, own)
    assert peers.withheld.startswith("The peer group is too small to compare anonymously")
    assert "at least 10 scored products from 3 other organisations" in peers.withheld
    assert peers.sections.empty and peers.counts == {} and peers.size == ""
    assert list(ranked["standing"]) == [""] * len(ranked) and ranked["percentile"].isna().all()
    assert groups.empty


def test_at_the_lowest_minimum_the_attack_fails_on_the_coarse_figures(db_url):
    """With benchmark_min_peers at 5 the five peers are shown, but as rounded quartiles of the
    other organisations only: the solver misses by more than 5 points."""
    actor, qid, own, key = _build(db_url, SIX)
    _set_min_peers(db_url, 5)
    peers, ranked, _ = _client_view(db_url, actor, qid, own)
    assert peers.withheld is None and peers.counts == {} and peers.size == "5–19"
    rows = peers.sections.set_index("section")
    assert rows[["mean", "p05", "p95"]].isna().all().all()
    assert (rows[["q1", "median", "q3"]] % 5 == 0).all().all()
    for column, section in ((0, OVERALL), (1, key)):
        others = [p[column] for ps in SIX.values() for p in ps]
        figures = rows.loc[section].to_dict()
        assert max_error(recover_group(figures, len(others)), others) > 5
    standing = dict(zip(ranked["section"], ranked["standing"], strict=False))
    assert standing[OVERALL] == "Third quarter" and standing[key] == "Third quarter"  # 55 and 62
    assert set(standing.values()) == {"Third quarter", ""}  # no score, no standing


def test_exact_figures_of_two_filter_choices_give_the_one_peer_between_them_away(db_url):
    """Industry Retail against Retail and tier 1: before, the two differ by one peer and its
    score falls out of the two exact means and counts."""
    _build(db_url, TEN, lone=LONE)
    tier_1 = [*(v for vs in TEN.values() for v in vs), OWN[0]]
    retail = [*tier_1, LONE]
    assert abs(recover_difference(_exact(retail), _exact(tier_1), len(retail)) - LONE) < 0.01


def test_a_client_cannot_difference_two_filter_choices(db_url):
    actor, qid, own, _ = _build(db_url, TEN, lone=LONE)
    retail, _, groups = _client_view(db_url, actor, qid, own, Filters(industry="Retail"))
    assert retail.withheld is None and retail.size == "10–19"
    for filters in (Filters(industry="Retail", tier="tier_1"), Filters(tier="tier_1")):
        narrow, _, _ = _client_view(db_url, actor, qid, own, filters)
        assert narrow.withheld.startswith("This peer group differs from a wider one by too few")
        assert narrow.sections.empty
    assert groups.empty  # Retail tier 1 is the same near-duplicate; Retail tier 2 holds one peer


def test_a_clients_own_products_never_move_its_peer_figures(db_url):
    """Else adding products that score 0 would walk the quartiles through every peer."""
    actor, qid, own, key = _build(db_url, TEN, lone=LONE)
    before, _, _ = _client_view(db_url, actor, qid, own)
    with db.transaction(db_url) as s:
        for i in range(6):
            _product(s, actor.organization_id, f"Decoy {i}", qid, 0.0, 0.0, key)
    after, _, _ = _client_view(db_url, actor, qid, own)
    assert after.sections.equals(before.sections) and after.size == before.size == "10–19"


def test_staff_keep_exact_figures(db_url):
    _build(db_url, TEN, lone=LONE)
    analyst = make_actor(db_url, "analyst")
    with db.reading(db_url) as s:
        peers = peer_distribution(s, analyst, Filters(), baseline_id(db_url))
    overall = peers.sections.iloc[0]
    everyone = [*(v for vs in TEN.values() for v in vs), OWN[0], LONE]
    assert peers.exact and peers.size == "12" and overall["assessments"] == 12
    assert overall["mean"] == pytest.approx(np.mean(everyone))
    assert overall["p05"] == pytest.approx(np.quantile(everyone, 0.05))


@pytest.mark.parametrize(
    "value, ok",
    [(4, False), (5, True), (10, True), (1000, True), (1001, False), (True, False), ("10", False)],
)
def test_benchmark_min_peers_is_validated(value, ok):
    if ok:
        assert validate_setting("benchmark_min_peers", value) == value
    else:
        with pytest.raises(
            ValidationError, match="benchmark_min_peers must be a whole number from 5 to 1000"
        ):
            validate_setting("benchmark_min_peers", value)
