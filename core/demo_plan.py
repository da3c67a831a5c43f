"""What the demo holds: organisations, accounts and each product's assessment cycles.

Pure data and a seeded planner; core/demo.py plays the plan through the core functions. The two
organisations with sign-in accounts are written out by hand (tests and the README name their
products); the other five get plans drawn from a fixed seed, so every build is the same.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import NamedTuple

BASELINE = "securesphere-baseline"
ASVS = "owasp-asvs-5.0-l1"
CSF = "nist-csf-2.0"
SP800_53_LOW = "nist-800-53-r5-low"
HISTORY_DAYS = 575  # the oldest cycle starts about 19 months ago
CYCLE_DAYS = 42  # a closed cycle's events spread over six weeks
OPEN = ("not_started", "in_progress", "submitted", "under_review", "changes_requested")


@dataclass(frozen=True)
class Cycle:
    quality: float  # 0-1: how good the answers are
    story: str  # the final status, approved_after_changes (a change-request loop first) or
    # corrected (a loop whose resubmission is scored lower, waiting for review)
    days_ago: int  # when the cycle started


@dataclass(frozen=True)
class ProductPlan:
    organization: str
    name: str
    bank: str
    cycles: tuple[Cycle, ...]


class DemoOrganization(NamedTuple):
    name: str
    industry: str
    tier: str


class DemoAccount(NamedTuple):
    """A demo sign-in account; organisation is None for staff."""

    username: str
    name: str
    role: str
    organization: str | None


class DemoMember(NamedTuple):
    """Another organisation's client: a real-looking account whose one-time password nobody is
    given (an admin may reset it)."""

    username: str
    name: str
    organization: str


ORGANISATIONS = (
    DemoOrganization("Demo Corp", "Technology", "tier_2"),
    DemoOrganization("Enterprise Inc", "Financial services", "tier_1"),
    DemoOrganization("Northwind Health", "Healthcare", "tier_1"),
    DemoOrganization("Harbour Logistics", "Logistics", "tier_3"),
    DemoOrganization("Cobalt Retail", "Retail", "tier_2"),
    DemoOrganization("Aurora Energy", "Energy", "tier_1"),
    DemoOrganization("Fjord Analytics", "Technology", "tier_3"),
)
ACCOUNTS = (
    DemoAccount("admin", "Ada Admin", "admin", None),
    DemoAccount("lead_reviewer", "Lee Reviewer", "lead_reviewer", None),
    DemoAccount("security_manager", "Sam Manager", "security_manager", None),
    DemoAccount("analyst", "Ana Analyst", "analyst", None),
    DemoAccount("demo_client", "Dana Client", "client", "Demo Corp"),
    DemoAccount("enterprise_client", "Eli Client", "client", "Enterprise Inc"),
)
MEMBERS = (
    DemoMember("noor.haddad", "Noor Haddad", "Northwind Health"),
    DemoMember("hugo.berg", "Hugo Berg", "Harbour Logistics"),
    DemoMember("carla.ruiz", "Carla Ruiz", "Cobalt Retail"),
    DemoMember("arun.patel", "Arun Patel", "Aurora Energy"),
    DemoMember("freya.lund", "Freya Lund", "Fjord Analytics"),
)
SHOWCASE = (  # organisation, product, bank, cycles as (quality, story, days ago)
    (
        "Demo Corp",
        "Customer Portal",
        BASELINE,
        ((0.55, "approved_after_changes", 470), (0.8, "in_progress", 20)),
    ),
    ("Demo Corp", "Mobile App", BASELINE, ((0.7, "submitted", 15),)),
    ("Demo Corp", "Internal HR System", BASELINE, ((0.0, "not_started", 3),)),
    (
        "Demo Corp",
        "Billing Service",
        BASELINE,
        ((0.5, "approved", 545), (0.78, "approved", 360), (0.6, "approved_after_changes", 130)),
    ),
    (
        "Enterprise Inc",
        "Payments Gateway",
        BASELINE,
        (
            (0.6, "approved", HISTORY_DAYS),
            (0.75, "approved_after_changes", 300),
            (0.9, "under_review", 12),
        ),
    ),
    ("Enterprise Inc", "Data Warehouse", BASELINE, ((0.5, "changes_requested", 45),)),
    ("Enterprise Inc", "Partner API", BASELINE, ((0.25, "rejected", 90),)),
    (
        "Enterprise Inc",
        "Trading Desk",
        BASELINE,
        ((0.85, "approved", 520), (0.62, "approved", 280), (0.7, "approved_after_changes", 75)),
    ),
    ("Enterprise Inc", "Online Banking", ASVS, ((0.45, "approved", 400), (0.7, "submitted", 9))),
    ("Demo Corp", "Cloud Platform", CSF, ((0.7, "approved", 160),)),
    # Challenged "yes" answers corrected to "no": a resubmission that scores lower (a score drop).
    (
        "Harbour Logistics",
        "Route Planner",
        BASELINE,
        ((0.55, "approved", 420), (0.85, "corrected", 30)),
    ),
)
# A product that already holds an approved assessment on one framework and is asked next for
# another, not yet answered: ready to pre-fill through the shipped crosswalk (core/mappings).
NEXT_FRAMEWORK = (("Demo Corp", "Cloud Platform", SP800_53_LOW, 2),)  # ..., days ago
OTHER_PRODUCTS = {  # the last product of each uses the OWASP ASVS questionnaire
    "Northwind Health": (
        "Patient Portal",
        "Lab Results API",
        "Pharmacy Service",
        "Clinical Data Lake",
        "Telehealth App",
    ),
    "Harbour Logistics": (
        "Fleet Tracker",
        "Customs Gateway",
        "Warehouse Scanner",
        "Driver App",
        "Booking Site",
    ),
    "Cobalt Retail": (
        "Point of Sale",
        "Loyalty Service",
        "Inventory Hub",
        "Supplier Portal",
        "Web Shop",
    ),
    "Aurora Energy": (
        "Grid Monitor",
        "Smart Meter Hub",
        "Billing Engine",
        "Field Service App",
        "Customer Site",
    ),
    "Fjord Analytics": (
        "Insight Studio",
        "Data Pipeline",
        "Model Registry",
        "Report Builder",
        "Analytics Portal",
    ),
}
FINAL_WEIGHTS = {
    "approved": 45,
    "approved_after_changes": 15,
    "submitted": 8,
    "under_review": 8,
    "changes_requested": 8,
    "in_progress": 8,
    "rejected": 8,
}


def plan_cycles(rng: random.Random) -> tuple[Cycle, ...]:
    """One to three cycles, oldest first, at least four months apart; the quality drifts up or
    down between cycles and only the last may still be open."""
    count = rng.choice((1, 2, 2, 3, 3))
    final = rng.choices(list(FINAL_WEIGHTS), weights=list(FINAL_WEIGHTS.values()))[0]
    last = rng.randint(6, 35) if final in OPEN else rng.randint(45, 200)
    first = rng.randint(last + 130 * (count - 1), HISTORY_DAYS - 5) if count > 1 else last
    starts = [round(first - (first - last) * i / max(count - 1, 1)) for i in range(count)]
    quality, cycles = rng.uniform(0.3, 0.85), []
    for i, start in enumerate(starts):
        story = (
            final
            if i == count - 1
            else rng.choice(("approved", "approved", "approved_after_changes"))
        )
        cycles.append(Cycle(round(quality, 2), story, start))
        quality = min(0.95, max(0.2, quality + rng.uniform(-0.25, 0.25)))
    return tuple(cycles)


def demo_plan(seed: int = 2026) -> list[ProductPlan]:
    """Every demo product with its cycles: the showcase first, then the other organisations'."""
    plans = [
        ProductPlan(org, name, bank, tuple(Cycle(*c) for c in cycles))
        for org, name, bank, cycles in SHOWCASE
    ]
    rng = random.Random(seed)
    for org, names in OTHER_PRODUCTS.items():
        plans += [
            ProductPlan(org, name, ASVS if i == len(names) - 1 else BASELINE, plan_cycles(rng))
            for i, name in enumerate(names)
        ]
    return plans
