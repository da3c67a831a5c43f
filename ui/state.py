"""Settings, transactions, the current actor and role guards for pages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlalchemy.orm import Session

from core import audit, db
from core.access import Actor
from core.config import Settings, load_settings
from core.errors import AccessDenied, SecureSphereError
from core.text import md_escape


def settings() -> Settings:
    """Process settings from the environment (raises ConfigError); cheap enough per rerun."""
    return load_settings()


DATA_VERSION = "_data_version"  # session_state: the data version as this run read (ui.cache)


@contextmanager
def session() -> Iterator[Session]:
    """One write transaction for one user action (the cached aggregates' data version is read
    afresh after it)."""
    try:
        with db.transaction(settings().database_url) as s:
            yield s
    finally:
        st.session_state.pop(DATA_VERSION, None)


@contextmanager
def reading() -> Iterator[Session]:
    """A read-only transaction."""
    with db.reading(settings().database_url) as s:
        yield s


def current_actor() -> Actor:
    """The signed-in actor that app.py checked on this rerun; stops the page otherwise."""
    actor = st.session_state.get("actor")
    if not isinstance(actor, Actor):
        st.warning("Please sign in.")
        st.stop()
    return actor


def record_denied(actor: Actor, what: str) -> None:
    """Write a denied access to the audit trail in its own transaction."""
    with session() as s:
        audit.record(s, actor, "access_denied", object_type="page", object_id=what[:64])


def require_role(*roles: str) -> Actor:
    """The actor, if their role may open this page; else a plain message, an audit row and a stop."""
    actor = current_actor()
    if actor.role not in roles:
        record_denied(actor, st.session_state.get("_page", "page"))
        st.error("You do not have access to this page.")
        st.stop()
    return actor


def run_action(action, success: str | None = None, *, slot: str | None = None) -> bool:
    """Run a state-changing core call in one transaction; False with a plain message on failure.

    Without a slot the refusal is drawn where this is called and success is a toast. With a slot
    both wait in the session for `feedback(slot)` next to the control, so they survive the rerun
    a page does after success (a toast does not) and a success never shows beside a new refusal.
    """
    refusal = attempt(action)
    if slot is not None:
        leave_message(slot, "error" if refusal else "success", refusal or success)
    elif refusal:
        st.error(md_escape(refusal))  # messages can quote what the user typed
    elif success:
        st.toast(md_escape(success), icon=":material/check_circle:")
    return refusal is None


def attempt(action) -> str | None:
    """Run a core call in one write transaction; the refusal's message, or None when it passed."""

    def write(actor: Actor) -> None:
        with session() as s:
            action(s, actor)

    _, refusal = guarded(write)
    if refusal is None:
        invalidate()
    return refusal


def guarded(call):
    """(call(actor), None) for the signed-in actor, or (None, the refusal's message); a refused
    access is written to the audit trail. The one place core errors become a user's message."""
    actor = current_actor()
    try:
        return call(actor), None
    except AccessDenied as exc:
        record_denied(actor, type(exc).__name__)
        return None, str(exc)
    except SecureSphereError as exc:
        return None, str(exc)


def checked(call):
    """call(actor) for the signed-in actor; a refusal becomes a plain message and stops the page."""
    result, refusal = guarded(call)
    if refusal is None:
        return result
    st.error(md_escape(refusal))  # messages can quote what the user typed
    st.stop()


_MESSAGES = "_messages"


def leave_message(slot: str, kind: str, text: str | None) -> None:
    """Keep one message ("success" or "error") for the control named by slot, replacing any other."""
    messages = st.session_state.setdefault(_MESSAGES, {})
    messages.pop(slot, None)
    if text:
        messages[slot] = (kind, text)


def feedback(slot: str, *, compact: bool = False) -> None:
    """Draw, once, the message the last action of this control left (call it next to the control);
    compact shows a success as one small line, for controls used many times in a row."""
    kind, text = st.session_state.get(_MESSAGES, {}).pop(slot, (None, None))
    if kind == "error":
        st.error(md_escape(text), icon=":material/error:")
    elif kind == "success" and compact:
        st.caption(f":green[:material/check_circle:] {md_escape(text)}")
    elif kind == "success":
        st.success(md_escape(text), icon=":material/check_circle:")


def invalidate() -> None:
    """Drop cached reads after a write (aggregates are keyed by scope, so clearing is safe)."""
    st.cache_data.clear()


def load(read):
    """Run a read-only core call; a refusal or a missing object becomes a plain message and a stop."""

    def run(actor: Actor):
        with reading() as s:
            return read(s, actor)

    return checked(run)
