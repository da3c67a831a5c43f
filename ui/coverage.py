"""The Scores page's crosswalk view: what the selected assessment's answers give on each other
framework a mapping reaches (carried, proposed, uncovered per section) and what is left to answer."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.chart_layout import esc, stacked_bars
from core.mappings.coverage import Coverage, coverage, coverage_targets
from core.text import md_escape, plotly_escape
from ui.mapping_admin import bank_titles
from ui.state import load
from ui.tables import show_table

KINDS = (  # (field, label, colour, what it means)
    ("carried", "Carried", "#2e7d32", "Questions a mapped answer answers at once."),
    ("proposed", "Proposed", "#f9a825", "Questions a mapped answer answers once confirmed."),
    ("uncovered", "Still to answer", "#bdbdbd", "Questions no answer of this assessment reaches."),
)


def _targets(session, actor, assessment_id: int) -> list[tuple[int, str, str]]:
    """(mapping id, target bank title, mapping title) for each framework the assessment reaches."""
    rows = coverage_targets(session, actor, assessment_id)
    titles = bank_titles(session)
    return [(m.id, titles.get(m.target_bank, m.target_bank), m.title) for m in rows]


def coverage_section(assessment_id: int) -> None:
    """What this assessment gives on other frameworks; nothing when no mapping starts from its
    questionnaire."""
    targets = load(lambda s, a: _targets(s, a, assessment_id))
    if not targets:
        return
    st.subheader("What this assessment gives on other frameworks")
    labels = {mid: f"{bank} (through {title})" for mid, bank, title in targets}
    chosen = targets[0][0]
    if len(targets) > 1:
        chosen = st.selectbox(
            "Framework", list(labels), format_func=labels.get, key=f"cov{assessment_id}"
        )
    cov = load(lambda s, a: coverage(s, a, assessment_id, chosen))
    st.caption(
        f"Through the mapping {md_escape(cov.mapping_title)}, this assessment's answers also "
        f"answer questions of {md_escape(cov.bank.title)} v{cov.bank.version}. Carried: an "
        "equal, equivalent or superset question was answered, so the answer counts at once. "
        "Proposed: a subset or intersecting question was answered, so the answer counts once it "
        "is confirmed. Several answers for one question give the weakest. To use them, pre-fill "
        "an assessment on that questionnaire from this one on the Questionnaire page."
    )
    total = sum(s.total for s in cov.sections)
    columns = st.columns(3)
    for column, (kind, label, _, meaning) in zip(columns, KINDS, strict=True):
        count = sum(getattr(s, kind) for s in cov.sections)
        column.metric(label, f"{cov.share(kind):.0%}", help=meaning)
        column.caption(f"{count:,} of {total:,} questions")
    if not any(s.carried or s.proposed for s in cov.sections):
        st.info(
            f"None of this assessment's answers reaches {md_escape(cov.bank.title)} yet: the "
            "mapped questions are unanswered, or their answers cannot cross.",
            icon=":material/link_off:",
        )
    st.plotly_chart(coverage_figure(cov), width="stretch", key=f"covfig{assessment_id}")
    _to_answer(cov)


def coverage_figure(cov: Coverage) -> go.Figure:
    """One horizontal stacked bar per section of the target bank: carried, proposed, uncovered."""
    sections = cov.sections
    series = []
    for kind, label, colour, _ in KINDS:
        counts = [getattr(s, kind) for s in sections]
        hover = [
            f"{plotly_escape(s.title)}<br>{label}: {n:,} of {s.total:,} questions"
            for s, n in zip(sections, counts, strict=True)
        ]
        series.append((label, colour, counts, hover))
    title = f"Per section of {plotly_escape(cov.bank.title)}"
    return stacked_bars(esc(s.title for s in sections), series, title, "Questions", row_height=26)


def _to_answer(cov: Coverage) -> None:
    n = len(cov.to_answer)
    if n == 0:
        st.success(
            f"Every question of {md_escape(cov.bank.title)} gets an answer from this assessment.",
            icon=":material/check_circle:",
        )
        return
    st.markdown(
        f"**Still to answer on {md_escape(cov.bank.title)}: {n:,} "
        f"{'question' if n == 1 else 'questions'}**"
    )
    show_table(
        pd.DataFrame(cov.to_answer, columns=["section", "question", "text"]),
        {
            "section": st.column_config.TextColumn("Section", width=240),
            "question": st.column_config.TextColumn("Question", width=90),
            "text": "Text",
        },
        height=min(420, 38 + 35 * n),
    )
