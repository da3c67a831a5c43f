"""The synthetic portfolio: organisations, their accounts and products, and one assessment row per
product (see core/synthetic.py)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from core.models import Assessment, Organization, Product, User
from core.passwords import hash_password
from core.synthetic_loader import Loader
from core.synthetic_stories import DAYS, AssessmentPlan, People, RowValues, SyntheticUser

ORG_PREFIX = "Synthetic Org"
INDUSTRIES = (
    "Technology",
    "Financial services",
    "Healthcare",
    "Retail",
    "Manufacturing",
    "Public sector",
)
TIERS = ("tier_1", "tier_2", "tier_3")


def add_organizations(loader: Loader, count: int, now: datetime) -> list[int]:
    """`count` organisations across the industries and tiers; returns their ids."""
    first, when = loader.next_id(Organization.id), loader.ts(now - timedelta(days=DAYS + 30))
    loader.insert(
        Organization,
        (
            {
                "id": first + i,
                "name": f"{ORG_PREFIX} {i + 1:02d}",
                "industry": INDUSTRIES[i % len(INDUSTRIES)],
                "tier": TIERS[i // len(INDUSTRIES) % len(TIERS)],
                "is_active": True,
                "created_at": when,
                "updated_at": when,
            }
            for i in range(count)
        ),
    )
    return list(range(first, first + count))


def add_users(loader: Loader, orgs: list[int], now: datetime) -> People:
    """5 reviewers, 3 analysts and one client per organisation: inactive, unknown password."""
    first, when = loader.next_id(User.id), loader.ts(now - timedelta(days=DAYS + 30))
    hashed = hash_password(secrets.token_urlsafe(24), rounds=4)
    specs: list[tuple[str, int | None]] = (
        [("lead_reviewer", None)] * 5 + [("analyst", None)] * 3 + [("client", org) for org in orgs]
    )
    rows: list[RowValues] = [
        {
            "id": first + i,
            "username": f"syn-{role.replace('_', '-')}-{i + 1:03d}",
            "name": f"Synthetic {role.replace('_', ' ')} {i + 1}",
            "email": "",
            "role": role,
            "organization_id": org,
            "password_hash": hashed,
            "must_change_password": False,
            "is_active": False,
            "is_demo": False,
            "failed_logins": 0,
            "lockouts": 0,
            "created_at": when,
            "updated_at": when,
        }
        for i, (role, org) in enumerate(specs)
    ]
    loader.insert(User, rows)
    people: People = {}
    for i, (role, org) in enumerate(specs):
        username = f"syn-{role.replace('_', '-')}-{i + 1:03d}"
        people.setdefault(role, []).append(SyntheticUser(first + i, username, org))
    return people


def add_products(loader: Loader, orgs: list[int], count: int, now: datetime) -> int:
    """`count` products spread over the organisations; returns the first one's id."""
    first, when = loader.next_id(Product.id), loader.ts(now - timedelta(days=DAYS + 20))
    loader.insert(
        Product,
        (
            {
                "id": first + i,
                "organization_id": orgs[i % len(orgs)],
                "name": f"Product {i + 1:05d}",
                "description": "",
                "tier": TIERS[(i // len(orgs)) % len(TIERS)],
                "industry": "",
                "is_active": True,
                "created_at": when,
                "updated_at": when,
            }
            for i in range(count)
        ),
    )
    return first


def add_assessments(loader: Loader, plans: list[AssessmentPlan], questionnaire_id: int) -> None:
    """One assessment row per plan, under the id the plan was given."""
    loader.insert(Assessment, (_assessment_row(loader, p, questionnaire_id) for p in plans))


def _assessment_row(loader: Loader, plan: AssessmentPlan, questionnaire_id: int) -> RowValues:
    times, triggers = plan.times, plan.triggers
    started = times[0] - timedelta(days=14)
    submitted = max(t for t, g in zip(times, triggers, strict=False) if g == "submit")
    decided = next((t for t, g in zip(times, triggers, strict=False) if g == "approve"), None)
    return {
        "id": plan.id,
        "product_id": plan.product_id,
        "questionnaire_id": questionnaire_id,
        "organization_id": plan.org,
        "status": plan.status,
        "cycle": 1,
        "round": 1 + triggers.count("changes_requested"),
        "reviewer_id": plan.reviewer,
        "created_by": plan.client,
        "due_date": (started + timedelta(days=30)).date(),
        "submitted_at": loader.ts(submitted),
        "decided_at": decided and loader.ts(decided),
        "is_active": True,
        "completion": 1.0,
        "created_at": loader.ts(started),
        "updated_at": loader.ts(times[-1]),
    }
