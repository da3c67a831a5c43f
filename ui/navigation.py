"""Which pages each role gets: navigation is data, built per run from the actor's role."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import streamlit as st

from core.access import ANALYTICS_AUDIENCE, OVERSIGHT, RESPONDENTS, REVIEWERS, ROLES, STAFF, Actor
from ui.cache import forget_version
from ui.state import require_role


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    roles: tuple[str, ...]
    group: str = "Workspace"


PAGES = (
    PageSpec("pages/client_home.py", "My products", ":material/inventory_2:", ("client",)),
    PageSpec("pages/questionnaire.py", "Questionnaire", ":material/assignment:", RESPONDENTS),
    PageSpec("pages/review_home.py", "Review desk", ":material/rate_review:", REVIEWERS),
    PageSpec("pages/review.py", "Review", ":material/fact_check:", REVIEWERS),
    PageSpec("pages/portfolio_home.py", "Portfolio", ":material/dashboard:", OVERSIGHT),
    PageSpec("pages/scores.py", "Scores", ":material/analytics:", ROLES),
    PageSpec("pages/admin_users.py", "Users", ":material/group:", ("admin",), "Administration"),
    PageSpec(
        "pages/admin_organizations.py",
        "Organisations",
        ":material/domain:",
        ("admin",),
        "Administration",
    ),
    PageSpec(
        "pages/admin_banks.py",
        "Question banks",
        ":material/library_books:",
        ("admin",),
        "Administration",
    ),
    PageSpec(
        "pages/admin_settings.py",
        "System settings",
        ":material/tune:",
        ("admin",),
        "Administration",
    ),
    PageSpec(
        "pages/admin_audit.py", "Audit trail", ":material/policy:", ("admin",), "Administration"
    ),
    PageSpec(
        "pages/admin_operations.py",
        "Backups and integrity",
        ":material/backup:",
        ("admin",),
        "Administration",
    ),
    PageSpec(
        "pages/admin_notifications.py",
        "Notifications",
        ":material/notifications:",
        ("admin",),
        "Administration",
    ),
    PageSpec(
        "pages/admin_activity.py",
        "Sign-in activity",
        ":material/login:",
        ("admin",),
        "Administration",
    ),
    PageSpec(
        "pages/analytics_overview.py",
        "Overview",
        ":material/monitoring:",
        ANALYTICS_AUDIENCE,
        "Analytics",
    ),
    PageSpec(
        "pages/analytics_trends.py",
        "Trends",
        ":material/trending_up:",
        ANALYTICS_AUDIENCE,
        "Analytics",
    ),
    PageSpec(
        "pages/analytics_benchmarks.py",
        "Benchmarking",
        ":material/leaderboard:",
        ANALYTICS_AUDIENCE,
        "Analytics",
    ),
    PageSpec(
        "pages/analytics_reviews.py", "Review operations", ":material/timer:", STAFF, "Analytics"
    ),
    PageSpec(
        "pages/analytics_activity.py",
        "User activity",
        ":material/group_work:",
        OVERSIGHT,
        "Analytics",
    ),
    PageSpec("pages/extracts.py", "Extracts", ":material/download:", ROLES, "Analytics"),
    PageSpec("pages/colleagues.py", "Colleagues", ":material/group_add:", ("client",), "Account"),
    PageSpec("pages/profile.py", "My profile", ":material/account_circle:", ROLES, "Account"),
)
HOME_BY_ROLE = {
    "client": "pages/client_home.py",
    "lead_reviewer": "pages/review_home.py",
    **dict.fromkeys(OVERSIGHT, "pages/portfolio_home.py"),
}


def pages_for(actor: Actor, only_profile: bool) -> dict[str, list]:
    """st.Page objects grouped for st.navigation; a forced password change or
    second-factor set-up shows only the profile.

    Pages outside the role's set are registered too, hidden from the menu, so their URL shows a
    refusal (and writes its audit row) instead of silently opening the home page; their file
    never runs."""
    groups: dict[str, list] = {}
    for spec in PAGES:
        if actor.role not in spec.roles:
            groups.setdefault(spec.group, []).append(_refusal(spec))
            continue
        if only_profile and spec.path != "pages/profile.py":
            continue
        home = spec.path == HOME_BY_ROLE[actor.role] or (
            only_profile and spec.path == "pages/profile.py"
        )
        groups.setdefault(spec.group, []).append(
            st.Page(spec.path, title=spec.title, icon=spec.icon, default=home)
        )
    return groups


def _refusal(spec: PageSpec):
    return st.Page(
        partial(guard, spec.path),
        title=spec.title,
        icon=spec.icon,
        url_path=Path(spec.path).stem,
        visibility="hidden",
    )


def guard(page_file: str) -> Actor:
    """The actor, if the registry lets their role open this page file (else a plain refusal,
    written to the audit trail under the page's name)."""
    name = Path(page_file).name
    spec = next(p for p in PAGES if Path(p.path).name == name)
    st.session_state["_page"] = Path(spec.path).stem
    forget_version()  # a new run reads the data version once
    return require_role(*spec.roles)


def sign_in_doors(screen) -> list:
    """Before sign-in every page URL shows the sign-in screen, so a deep link survives signing in
    (the URL stays, and the next run opens the real page) without exposing any page."""
    doors = [st.Page(screen, title="Sign in", icon=":material/login:", default=True)]
    return doors + [
        st.Page(screen, title=spec.title, url_path=Path(spec.path).stem) for spec in PAGES
    ]
