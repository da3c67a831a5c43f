"""AppTest helpers: signed-in app sessions on the demo database (fixtures in conftest)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import auth, db

DEMO_PASSWORD = "demo password 2026"
ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


def signed_in(url: str, username: str, page: str = "app.py") -> AppTest:
    """An AppTest whose session holds a real server-side session, as after sign-in."""
    with db.transaction(url) as s:
        actor = auth.open_session(s, username)
    at = AppTest.from_file(str(ROOT / page), default_timeout=30)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.session_state["sid"] = actor.session_id
    at.session_state["actor"] = actor
    return at


def rerun(at: AppTest) -> AppTest:
    """Run again on the current page.

    Streamlit 1.67's AppTest silently skips a run that requests the page an st.navigation app
    finished on (the tree stays stale), so ask for "no page" and let navigation choose.
    """
    at._finished_page_script_hash = ""
    return at.run()
