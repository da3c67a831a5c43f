"""Cached aggregates for the analytics pages.

`aggregate(fn, ...)` runs a read-only core aggregate `fn(session, actor, ...)` through
st.cache_data, keyed by the actor's scope (role, organisation, and the reviewer for lead
reviewers; never the session), the arguments, and the data version (the newest audit row id,
which every write moves; a page load's "session resumed" row does not, see
core.analytics.data_version). Only aggregates go through here: small frames, never raw rows.
`figure(make, fn, ...)` draws a core.charts figure of such an aggregate once per cached result.
Results that depend on the clock (overdue days) may lag by up to the hour-long TTL while nothing
is written.
"""

from __future__ import annotations

import streamlit as st

from core.access import Actor
from core.analytics import data_version
from ui.state import DATA_VERSION, checked, current_actor, reading


def scope_key(actor: Actor) -> tuple:
    """What an aggregate's result may depend on: role, organisation, and for lead reviewers who
    they are (reviewer_visibility can narrow them to their own assessments)."""
    return (
        actor.role,
        actor.organization_id,
        actor.user_id if actor.role == "lead_reviewer" else None,
    )


def version() -> int:
    """The data version: the newest audit row id (one indexed read), read once per run of a
    page and again after each write of this session (ui.navigation.guard and ui.state.session
    forget it), rather than once per aggregate and figure."""
    if DATA_VERSION not in st.session_state:
        with reading() as s:
            st.session_state[DATA_VERSION] = data_version(s)
    return int(st.session_state[DATA_VERSION])


def forget_version() -> None:
    """The next version() reads the database again (a new run, or after a write)."""
    st.session_state.pop(DATA_VERSION, None)


def _key(fn, args: tuple, kwargs: dict) -> tuple:
    """What a cached aggregate depends on: the function, the actor's scope, the data version and
    the arguments."""
    return (
        f"{fn.__module__}.{fn.__qualname__}",
        scope_key(current_actor()),
        version(),
        args,
        tuple(sorted(kwargs.items())),
    )


@st.cache_data(show_spinner=False, max_entries=512, ttl=3600)
def _cached(text: str, _key: tuple, _fn, _actor: Actor):
    with reading() as s:
        return _fn(s, _actor, *_key[3], **dict(_key[4]))


@st.cache_resource(show_spinner=False, max_entries=256, ttl=3600)
def _figure(text: str, _make, _extra: tuple, _load):
    # Plotly validates every property it is given, which costs milliseconds per figure; a figure
    # is only read by st.plotly_chart, so one object per aggregate result is shared, not copied,
    # and the aggregate is only read again to draw it anew.
    return _make(_load(), *_extra)


def _run(key: tuple, fn):
    # Streamlit hashes the key's text: the key holds only numbers, strings, dates and frozen
    # dataclasses of them, whose repr is their value, and hashing that is 40 times cheaper than
    # hashing the tuple itself (8 against 325 microseconds, a dozen times a page run).
    return checked(lambda actor: _cached(repr(key), _key=key, _fn=fn, _actor=actor))


def aggregate(fn, *args, **kwargs):
    """fn(session, actor, *args, **kwargs) for the signed-in actor, cached by scope, arguments and
    data version; a refusal or an error becomes a plain message and stops the page."""
    return _run(_key(fn, args, kwargs), fn)


def figure(make, fn, *args, part: str | None = None, extra: tuple = (), **kwargs):
    """make(result.part or result, *extra): a core.charts figure of a cached aggregate (or of
    one field of it), itself built once per aggregate result."""
    key = _key(fn, args, kwargs)

    def load():
        result = _run(key, fn)
        return getattr(result, part) if part is not None else result

    name = f"{make.__module__}.{make.__qualname__}:{part}"
    return _figure(f"{key!r}|{name}|{extra!r}", _make=make, _extra=extra, _load=load)
