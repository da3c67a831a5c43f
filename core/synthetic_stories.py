"""The stories of synthetic assessments: final status, snapshot triggers and times, and the
status timeline, review comments and sign-ins that go with them (see core/synthetic.py)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

DAYS = 730  # 24 months of history
STATUS_WEIGHTS = {
    "approved": 60,
    "submitted": 10,
    "under_review": 10,
    "changes_requested": 10,
    "in_progress": 10,
}
_CR = ("submit", "changes_requested", "submit", "changes_requested")
PATTERNS = {  # final status -> the 5 snapshot triggers, oldest first
    "approved": (
        ("submit", "approve", "recompute", "recompute", "recompute"),
        ("submit", "changes_requested", "submit", "approve", "recompute"),
    ),
    "submitted": (_CR + ("submit",),),
    "under_review": (_CR + ("submit",),),
    "changes_requested": (_CR + ("recompute",),),
    "in_progress": (_CR + ("recompute",),),
}


# A row in storage form, by column, and a time as the column stores it (see Loader.ts).
RowValues = dict[str, object]
Stamp = str | datetime


class SyntheticUser(NamedTuple):
    """One synthetic account: its id, username and organisation (clients only)."""

    id: int
    username: str
    organization_id: int | None


People = dict[str, list[SyntheticUser]]  # by role


@dataclass(frozen=True)
class AssessmentPlan:
    """One synthetic assessment's story: final status, snapshot triggers and their times, the
    quality of its answers, and who answers and reviews it."""

    id: int
    product_id: int
    org: int
    status: str
    triggers: tuple[str, ...]
    times: list[datetime]  # of the five snapshots, oldest first
    quality: float
    client: int
    reviewer: int


def plan_assessment(
    rng: random.Random, assessment_id: int, product_id: int, org: int, people: People, now: datetime
) -> AssessmentPlan:
    """One assessment's story: final status, snapshot triggers and times, quality, reviewer."""
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    triggers = rng.choice(PATTERNS[status])
    end = now - timedelta(days=rng.uniform(1, 25) if status != "approved" else rng.uniform(1, 300))
    span = rng.uniform(200, DAYS - (now - end).days - 1)
    times = [
        end
        - timedelta(days=span * (4 - k) / 4 + (rng.uniform(-span, span) / 16 if 0 < k < 4 else 0))
        for k in range(5)
    ]
    for k in range(1, 5):  # a decision follows its submission within days, not months
        if triggers[k] in ("changes_requested", "approve") and triggers[k - 1] == "submit":
            times[k] = times[k - 1] + timedelta(days=rng.uniform(2, 16))
    client = next(u for u in people["client"] if u.organization_id == org)
    quality = rng.uniform(0.25, 0.95)
    return AssessmentPlan(
        id=assessment_id,
        product_id=product_id,
        org=org,
        status=status,
        triggers=triggers,
        times=times,
        quality=quality,
        client=client.id,
        reviewer=rng.choice(people["lead_reviewer"]).id,
    )


def timeline_rows(ts: Callable[[datetime], Stamp], plan: AssessmentPlan) -> list[RowValues]:
    """Status changes matching the snapshot triggers (a claim the day before each decision)."""
    client, reviewer, day = plan.client, plan.reviewer, timedelta(days=1)
    events, status = (
        [(plan.times[0] - 13 * day, "not_started", "in_progress", client, "")],
        "in_progress",
    )
    for when, trigger in zip(plan.times, plan.triggers, strict=False):
        if trigger == "submit":
            if status == "changes_requested":
                events.append((when - day, status, "in_progress", client, ""))
            events.append((when, "in_progress", "submitted", client, ""))
            status = "submitted"
        elif trigger in ("changes_requested", "approve"):
            status = "approved" if trigger == "approve" else "changes_requested"
            note = "" if trigger == "approve" else "Two answers need more detail."
            events += [
                (when - day, "submitted", "under_review", reviewer, ""),
                (when, "under_review", status, reviewer, note),
            ]
    last = plan.times[-1]
    if plan.status == "under_review":
        events.append((last + day / 2, "submitted", "under_review", reviewer, ""))
    if plan.status == "in_progress":
        events.append((plan.times[-2] + day, "changes_requested", "in_progress", client, ""))
    return [
        {
            "assessment_id": plan.id,
            "from_status": a,
            "to_status": b,
            "actor_id": who,
            "note": note,
            "created_at": ts(t),
            "updated_at": ts(t),
        }
        for t, a, b, who, note in sorted(events)
    ]


def comment_rows(ts: Callable[[datetime], Stamp], plan: AssessmentPlan) -> list[RowValues]:
    """For each change request: an internal reviewer note, a shared request and the client's reply."""
    rows: list[RowValues] = []
    day = timedelta(days=1)
    for when, trigger in zip(plan.times, plan.triggers, strict=False):
        if trigger != "changes_requested":
            continue
        for offset, author, body, visibility in (
            (-day, plan.reviewer, "Internal: evidence for access control looks thin.", "internal"),
            (
                0 * day,
                plan.reviewer,
                "Please describe the control in place — and attach evidence (e.g. «policy v2»).",
                "shared",
            ),
            (day, plan.client, "- added MFA evidence\n- updated the policy, merci", "shared"),
        ):
            stamp = ts(when + offset)
            rows.append(
                {
                    "assessment_id": plan.id,
                    "response_id": None,
                    "parent_id": None,
                    "author_id": author,
                    "body": body,
                    "visibility": visibility,
                    "is_resolved": False,
                    "is_active": True,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
            )
    return rows


def sign_in_rows(
    ts: Callable[[datetime], Stamp], people: People, rng: random.Random, now: datetime
) -> Iterator[RowValues]:
    """About one sign-in attempt every other day per synthetic account over the last 90 days."""
    accounts = [u for users in people.values() for u in users]
    for days_ago in range(90, 0, -1):
        for user in accounts:
            if rng.random() < 0.5:
                stamp = ts(now - timedelta(days=days_ago, hours=rng.uniform(0, 12)))
                yield {
                    "user_id": user.id,
                    "username": user.username,
                    "client_address": f"192.0.2.{user.id % 250 + 1}",
                    "succeeded": rng.random() < 0.9,
                    "created_at": stamp,
                    "updated_at": stamp,
                }
