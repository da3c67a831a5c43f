"""The naive path: read whole tables with `SELECT *` into pandas and compute the dashboard numbers
with merges and groupbys. It is the benchmark's baseline and the tests' reference for every
aggregate in core.analytics, core.trends and core.peer_benchmarks (same definitions, no SQL tricks).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from core.analytics import WAITING
from core.filters import Filters
from core.models import STATUSES
from core.periods import months_between
from core.scoring import CRITICAL_FAIL_BELOW

TABLES = (
    "organizations",
    "products",
    "questionnaires",
    "sections",
    "questions",
    "assessments",
    "score_history",
    "questionnaire_responses",
)
TIMES = ("created_at", "submitted_at", "decided_at", "answered_at")


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def load(connection, tables=TABLES) -> dict[str, pd.DataFrame]:
    """SELECT * of each table (a DB-API or SQLAlchemy connection), times as UTC timestamps."""
    frames = {}
    for name in tables:
        frame = pd.read_sql(f"SELECT * FROM {name}", connection)
        for column in TIMES:
            if column in frame:
                frame[column] = pd.to_datetime(frame[column], utc=True, format="mixed")
        if "section_scores" in frame:
            frame["section_scores"] = frame["section_scores"].map(_json)
        frames[name] = frame
    return frames


def scoped(t: dict, filters: Filters, client_org: int | None = None, *, own=True) -> pd.DataFrame:
    """Active assessments within the filters (and a client's organisation)."""
    a, orgs = t["assessments"], t["organizations"]
    a = a[a["is_active"].astype(bool)]
    if own and client_org is not None:
        a = a[a["organization_id"] == client_org]
    if own and filters.organization_id is not None:
        a = a[a["organization_id"] == filters.organization_id]
    if filters.questionnaire_id is not None:
        a = a[a["questionnaire_id"] == filters.questionnaire_id]
    if filters.min_accepted:  # a missing share (NaN) never passes
        a = a[a["accepted_share"] >= filters.min_accepted - 1e-6]
    keep = orgs
    if filters.industry:
        keep = keep[keep["industry"] == filters.industry]
    if filters.tier:
        keep = keep[keep["tier"] == filters.tier]
    return a[a["organization_id"].isin(keep["id"])]


def overview(t: dict, filters: Filters, now: datetime, sla_days: int, client_org=None) -> dict:
    """The numbers of core.analytics.overview."""
    a = scoped(t, filters, client_org)
    late = a["status"].isin(WAITING) & (a["submitted_at"] < now - timedelta(days=sla_days))
    counts = a["status"].value_counts()
    return {
        "assessments": len(a),
        "by_status": {s: int(counts.get(s, 0)) for s in STATUSES},
        "average_score": a["latest_score"].mean() if a["latest_score"].notna().any() else None,
        "completion_rate": a["completion"].mean() if len(a) else None,
        "overdue": int(late.sum()),
        "submitted": int(a["submitted_at"].notna().sum()),
        "bands": {k: int(v) for k, v in a["latest_band"].value_counts().items()},
    }


def attention_counts(
    t: dict, filters: Filters, now: datetime, sla_days: int, drop: float, client_org=None
) -> dict[str, int]:
    """How many assessments are overdue, fail a critical question, or dropped `drop` points."""
    a = scoped(t, filters, client_org)
    late = a["status"].isin(WAITING) & (a["submitted_at"] < now - timedelta(days=sla_days))
    critical = t["questions"].loc[t["questions"]["critical"].astype(bool), "id"]
    r = t["questionnaire_responses"]
    failed = r[r["question_id"].isin(critical) & (r["score"] < CRITICAL_FAIL_BELOW)]
    sh = t["score_history"].sort_values(["assessment_id", "created_at", "id"])
    previous = sh.groupby("assessment_id")["overall_score"].nth(-2)
    previous = pd.Series(previous.values, index=sh.loc[previous.index, "assessment_id"])
    change = a.set_index("id")["latest_score"] - previous.reindex(a["id"]).values
    return {
        "overdue": int(late.sum()),
        "failed_critical": int(a["id"].isin(failed["assessment_id"]).sum()),
        "score_drop": int((change <= -drop).sum()),
    }


def _month(series: pd.Series) -> pd.Series:
    return series.dt.strftime("%Y-%m")


def trend(t: dict, filters: Filters, group: str, today: date, client_org=None) -> pd.DataFrame:
    """core.trends.trend_frame: the newest snapshot per assessment as of each month, averaged, with
    the open assessments that have no snapshot counted at the share of their answers given."""
    a = scoped(t, filters, client_org)
    sh = t["score_history"].merge(
        a[["id", "organization_id", "product_id", "questionnaire_id"]],
        left_on="assessment_id",
        right_on="id",
        suffixes=("", "_a"),
    )
    if filters.until is not None:
        sh = sh[sh["created_at"] < filters.until]
    key = {
        "organization": "organization_id",
        "product": "product_id",
        "questionnaire": "questionnaire_id",
    }.get(group)
    open_ = a[~a["id"].isin(sh["assessment_id"])]
    if filters.until is not None:
        open_ = open_[open_["created_at"] < filters.until]
    if sh.empty and open_.empty:
        return pd.DataFrame(columns=["month", "group", "score", "completion", "assessments"])
    sh = sh.assign(month=_month(sh["created_at"]), g=sh[key] if key else 0)
    open_ = open_.assign(g=open_[key] if key else 0)
    months = months_between(
        date.fromisoformat(min([*sh["month"], *_month(open_["created_at"])]) + "-01"),
        filters.end or today,
    )
    last = sh.sort_values(["created_at", "id"]).drop_duplicates(
        ["assessment_id", "month"], keep="last"
    )
    rows = []
    for month in months:
        upto = last[last["month"] <= month].drop_duplicates("assessment_id", keep="last")
        open_now = _open_completion(t, open_, filters, month)
        for g in sorted(set(upto["g"]) | set(open_now["g"])):
            part, extra = upto[upto["g"] == g], open_now[open_now["g"] == g]
            if part.empty and extra.empty:
                continue
            done = [*part["completion"], *extra["completion"]]
            rows.append(
                (
                    month,
                    g,
                    part["overall_score"].mean() if part["overall_score"].notna().any() else None,
                    sum(done) / len(done),
                    len(done),
                )
            )
    frame = pd.DataFrame(rows, columns=["month", "group", "score", "completion", "assessments"])
    if filters.start is not None:
        frame = frame[frame["month"] >= f"{filters.start:%Y-%m}"]
    return frame.reset_index(drop=True)


def _open_completion(t: dict, open_: pd.DataFrame, filters: Filters, month: str) -> pd.DataFrame:
    """The open assessments (no snapshot before the range's end) started by the end of `month`,
    each at its completion now times the share of its answers given by then."""
    if filters.until is not None:
        open_ = open_[open_["created_at"] < filters.until]
    open_ = open_[_month(open_["created_at"]) <= month]
    answers = t["questionnaire_responses"]
    given = answers["answered_at"].fillna(
        pd.to_datetime(answers["updated_at"], utc=True, format="mixed")
    )
    by_then = (_month(given) <= month) & (True if filters.until is None else given < filters.until)
    share = by_then.groupby(answers["assessment_id"]).mean()
    return open_.assign(completion=open_["completion"] * open_["id"].map(share).fillna(0.0))


def movers(t: dict, filters: Filters, limit: int, client_org=None) -> pd.DataFrame:
    """core.movers.movers_frame: score at the range's end minus at its start, top rises and falls."""
    a = scoped(t, filters, client_org)
    sh = t["score_history"][t["score_history"]["assessment_id"].isin(a["id"])].sort_values("id")
    if filters.until is not None:
        sh = sh[sh["created_at"] < filters.until]
    since = filters.since
    inside = sh if since is None else sh[sh["created_at"] >= since]

    def newest(rows, keep="last"):
        return rows.drop_duplicates("assessment_id", keep=keep).set_index("assessment_id")

    before = newest(sh[sh["created_at"] < since] if since is not None else sh.iloc[:0])
    first, last = newest(inside, "first"), newest(sh)
    start = first[
        "overall_score"
    ].copy()  # the newest snapshot before the range wins, scored or not
    earlier = start.index.isin(before.index)
    start[earlier] = before["overall_score"].reindex(start.index[earlier]).values
    both = pd.DataFrame({"a": start, "b": last["overall_score"].reindex(start.index)}).dropna()
    both["change"] = both["b"] - both["a"]
    both = both.reset_index().rename(columns={"assessment_id": "aid"})
    up = (
        both[both["change"] > 0].sort_values(["change", "aid"], ascending=[False, True]).head(limit)
    )
    down = both[both["change"] < 0].sort_values(["change", "aid"]).head(limit)
    return (
        pd.concat([up, down])
        .sort_values(["change", "aid"], ascending=[False, True])
        .reset_index(drop=True)
    )


def peers(t: dict, filters: Filters, questionnaire_id: int) -> pd.DataFrame:
    """Each product's newest scored assessment on the version, within industry and tier."""
    a = scoped(
        t,
        Filters(industry=filters.industry, tier=filters.tier, questionnaire_id=questionnaire_id),
        own=False,
    )
    a = a[a["latest_score"].notna()]
    return a.loc[a.groupby("product_id")["id"].idxmax()] if len(a) else a


def distribution(t: dict, filters: Filters, questionnaire_id: int) -> dict[str, pd.Series]:
    """Peer scores per section ("overall" too) at each peer assessment's newest snapshot."""
    p = peers(t, filters, questionnaire_id)
    out = {"overall": p["latest_score"].astype(float)}
    sh = t["score_history"]
    latest = (
        sh[sh["assessment_id"].isin(p["id"])]
        .sort_values("id")
        .drop_duplicates("assessment_id", keep="last")
    )
    long = [
        (k, v)
        for scores in latest["section_scores"]
        for k, v in (scores or {}).items()
        if v is not None
    ]
    for key, values in pd.DataFrame(long, columns=["key", "value"]).groupby("key")["value"]:
        out[key] = values.astype(float)
    return out


def quantiles(values: pd.Series) -> dict[str, float]:
    """Mean and the quantiles core.peer_benchmarks reports, by pandas."""
    return {
        "mean": values.mean(),
        "p05": values.quantile(0.05),
        "q1": values.quantile(0.25),
        "median": values.quantile(0.5),
        "q3": values.quantile(0.75),
        "p95": values.quantile(0.95),
    }


def percentile(values: pd.Series, x: float) -> float:
    """Mid-rank percentile: share below plus half the share equal, in %."""
    return float(100 * ((values < x).mean() + 0.5 * (values == x).mean()))


def peer_groups(t: dict, questionnaire_id: int) -> pd.DataFrame:
    """core.peer_benchmarks.peer_groups_frame (every group)."""
    p = peers(t, Filters(), questionnaire_id).merge(
        t["organizations"][["id", "industry", "tier"]],
        left_on="organization_id",
        right_on="id",
        suffixes=("", "_o"),
    )
    rows = [
        (
            i or "(none)",
            tr,
            g["organization_id"].nunique(),
            len(g),
            g["latest_score"].quantile(0.25),
            g["latest_score"].quantile(0.5),
            g["latest_score"].quantile(0.75),
        )
        for (i, tr), g in p.groupby(["industry", "tier"], sort=True)
    ]
    return pd.DataFrame(
        rows, columns=["industry", "tier", "organizations", "products", "q1", "median", "q3"]
    )


def all_numbers(
    t: dict,
    filters: Filters,
    trend_filters: Filters,
    questionnaire_id: int,
    now: datetime,
    sla_days: int,
    drop: float,
) -> dict:
    """Every number of the overview, trends and benchmarking pages, the naive way."""
    dist = distribution(t, filters, questionnaire_id)
    return {
        "overview": overview(t, filters, now, sla_days),
        "attention": attention_counts(t, filters, now, sla_days, drop),
        "trend": trend(t, trend_filters, "organization", now.date()),
        "movers": movers(t, trend_filters, 10),
        "distribution": {k: quantiles(v) for k, v in dist.items()},
        "percentile": percentile(dist["overall"], float(np.median(dist["overall"]))),
        "peer_groups": peer_groups(t, questionnaire_id),
    }
