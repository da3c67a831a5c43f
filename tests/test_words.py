"""Words people read (issue 12 item 10): no page, for any role, shows a snake_case key, None,
JSON or a date in another format than the one the app uses; walked through AppTest on the demo."""

import pytest
import streamlit as st
from sqlalchemy import select

from core import db
from core.models import SignInAttempt, User
from tests.apptest import signed_in
from tests.support.words import PROBLEMS, page_problems, plain
from ui.navigation import PAGES

USERS = {
    "admin": "admin",
    "lead_reviewer": "lead_reviewer",
    "security_manager": "security_manager",
    "analyst": "analyst",
    "client": "demo_client",
}
ALLOWED = [(role, spec.path) for spec in PAGES for role in spec.roles]
# Columns whose cells are names in a file, not words on a screen.
CODE_COLUMNS = {"Column in the file"}


@pytest.fixture
def words_env(app_env):
    st.cache_data.clear()  # aggregates are cached per scope and data version, not per database
    return app_env


def _user_data(url) -> set[str]:
    """Text people typed that may hold underscores: usernames, also those tried at sign-in."""
    with db.reading(url) as s:
        names = set(s.scalars(select(User.username))) | set(
            s.scalars(select(SignInAttempt.username))
        )
    return {n for n in names if n}


@pytest.mark.parametrize("role, path", ALLOWED, ids=[f"{r}-{p.split('/')[-1]}" for r, p in ALLOWED])
def test_no_page_shows_keys_none_json_or_another_date_format(words_env, role, path):
    at = signed_in(words_env, USERS[role]).run()
    at.switch_page(path).run()
    assert not at.exception
    problems = page_problems(at, user_data=_user_data(words_env), code_columns=CODE_COLUMNS)
    assert not problems, "\n".join(sorted(set(problems)))


@pytest.mark.parametrize(
    "text, kind",
    [
        ("Status: changes_requested", "snake_case"),
        ("Tier: tier_1", "snake_case"),
        ("Score: None", "None/nan"),
        ('{"old": 30, "new": 20}', "JSON"),
        ("{}", "JSON"),
        ("Submitted 2026-12-01", "ISO date"),
        ("1 Dec 2026 14:05", "time without UTC"),
        ("01 Dec 2026", "zero-padded day"),
    ],
)
def test_the_walk_catches_each_kind_of_raw_word(text, kind):
    assert PROBLEMS[kind].search(plain(text))


@pytest.mark.parametrize(
    "text",
    [
        "Changes requested",
        "1 Dec 2026, 14:05 UTC",
        "Tier 1",
        "Run `python -m core.cli backup_now`",
        "demo\\_client signed in",
        ":orange[evidence required]",
        "Questions (0-100)",
        ":green[:material/check_circle:] Governance: 6/6",
    ],
)
def test_the_walk_lets_readable_words_pass(text):
    shown = plain(text).replace("demo_client", "")
    assert not [kind for kind, rx in PROBLEMS.items() if rx.search(shown)]
