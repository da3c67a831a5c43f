"""PDF report downloads: the assessment report on the Scores page, the board pack on Overview.

Each PDF is built when the button is clicked (Streamlit runs the callable on a thread of its
own), in its own read-only transaction, by core for the signed-in actor, so it holds exactly
what the page may show. ReportLab is imported at the first click, not at every page load.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from sqlalchemy.orm import Session

from core.access import Actor
from core.filters import Filters
from ui.state import current_actor, reading


def _built(make: Callable[[Session, Actor], bytes]) -> Callable[[], bytes]:
    actor = current_actor()  # read here: the click's thread has no session state

    def run() -> bytes:
        with reading() as s:
            return make(s, actor)

    return run


def _assessment_pdf(assessment_id: int) -> Callable[[Session, Actor], bytes]:
    def make(session: Session, actor: Actor) -> bytes:
        from core.report_assessment import assessment_report_pdf

        return assessment_report_pdf(session, actor, assessment_id)

    return make


def _portfolio_pdf(filters: Filters) -> Callable[[Session, Actor], bytes]:
    def make(session: Session, actor: Actor) -> bytes:
        from core.report_portfolio import portfolio_report_pdf

        return portfolio_report_pdf(session, actor, filters)

    return make


def assessment_report_button(assessment_id: int) -> None:
    """A button that downloads the assessment's report as PDF."""
    st.download_button(
        "Assessment report (PDF)",
        _built(_assessment_pdf(assessment_id)),
        file_name=f"securesphere-assessment-{assessment_id}.pdf",
        mime="application/pdf",
        icon=":material/picture_as_pdf:",
        on_click="ignore",
        key=f"report_pdf_{assessment_id}",
        help="Scores, what cost points and what moved, the decision, shared comments, the "
        "evidence index and the method, to pass on. Internal notes are never in it.",
    )


def board_pack_button(filters: Filters) -> None:
    """A button that downloads the board pack within the page's filters as PDF."""
    st.download_button(
        "Board pack (PDF)",
        _built(_portfolio_pdf(filters)),
        file_name="securesphere-board-pack.pdf",
        mime="application/pdf",
        icon=":material/picture_as_pdf:",
        on_click="ignore",
        key="board_pack_pdf",
        help="These figures within the sidebar filters, with the 12-month trend, the biggest "
        "movers and the benchmark against peers, as a PDF for a board.",
    )
