"""The framework mappings part of the Question banks page: every stored crosswalk with what it
reaches of its target bank, and the upload that previews a mapping file before importing it."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.banks.store import list_questionnaires
from core.chart_layout import stacked_bars
from core.errors import SecureSphereError
from core.mappings.read import MappingFile, read_mapping
from core.mappings.store import MappingPlan, list_mappings, plan_mapping, store_mapping
from core.text import md_escape, plotly_escape
from ui.state import feedback, leave_message, load, reading, run_action
from ui.tables import show_table

# In the order of the credit they give: carried, then proposed, then nothing.
RELATIONSHIPS = {
    "equal-to": ("Equal to", "#1b5e20"),
    "equivalent-to": ("Equivalent to", "#2e7d32"),
    "superset-of": ("Superset of", "#66bb6a"),
    "subset-of": ("Subset of", "#f9a825"),
    "intersects-with": ("Intersects with", "#ffcc80"),
    "no-relationship": ("No relationship", "#bdbdbd"),
}
FROM_THE_IDS = "Found from the ids"
SHOWN = 300  # ids listed of each kind
SLOT = "mapping_import"
ROUND = "mapping_upload_round"  # bumped by an import, so the uploader starts empty


def _by_relationship(counts: dict[str, int]) -> str:
    """{"superset-of": 3, "intersects-with": 2} as "Superset of: 3 · Intersects with: 2"."""
    order = list(RELATIONSHIPS)
    ranked = sorted(counts.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)
    return " · ".join(f"{RELATIONSHIPS.get(k, (k,))[0]}: {v:,}" for k, v in ranked) or "No links"


def bank_titles(session) -> dict[str, str]:
    """The title of each bank's newest version, by key."""
    titles: dict[str, str] = {}
    for row in list_questionnaires(session):  # newest version first within a title
        titles.setdefault(row["key"], row["title"])
    return titles


def mappings_section() -> None:
    """The stored mappings: a table, a chart of what each reaches, and what did not resolve."""
    st.subheader("Framework mappings")
    st.caption(  # the rules of core/mappings/credit.py
        "A mapping (crosswalk) relates the questions of one bank to those of another, so an "
        "assessment on one gives answers on the other. An answer crosses a mapping by its "
        "relationship: from an equal, equivalent or superset source it is carried (it counts at "
        "once); from a subset or intersecting source it is only proposed (it counts once the "
        "client confirms it); no relationship carries nothing."
    )
    rows, titles = load(lambda s, a: (list_mappings(s), bank_titles(s)))
    if not rows:
        st.info("No framework mapping is stored yet.", icon=":material/account_tree:")
        return
    show_table(
        pd.DataFrame(
            [
                {
                    "mapping": r["title"],
                    "from": titles.get(r["source_bank"], r["source_bank"]),
                    "to": titles.get(r["target_bank"], r["target_bank"]),
                    "covered": f"{r['covered']:,} of {r['target_questions']:,}",
                    "share": 100 * r["covered"] / max(r["target_questions"], 1),
                    "by_relationship": _by_relationship(r["by_relationship"]),
                    "links": (r["report"] or {}).get("links", 0),
                    "version": r["version"],
                    "licence": r["licence"] or "Not stated",
                }
                for r in rows
            ]
        ),
        {
            "mapping": st.column_config.TextColumn("Mapping", width=220),
            "from": "From",
            "to": "To",
            "covered": st.column_config.TextColumn("Questions covered", width=130),
            "share": st.column_config.ProgressColumn(
                "Share covered", format="%.0f%%", min_value=0, max_value=100, width=110
            ),
            "by_relationship": st.column_config.TextColumn(
                "Covered by relationship",
                help="A question reached through several relationships counts under each.",
            ),
            "links": st.column_config.NumberColumn("Links", format="%d"),
            "version": st.column_config.NumberColumn("Version", format="%d"),
            "licence": "Licence",
        },
    )
    st.plotly_chart(coverage_by_relationship_figure(rows), width="stretch")
    for r in rows:
        report, count = r["report"] or {}, problem_count(r["report"] or {})
        banks = (titles.get(r["source_bank"], ""), titles.get(r["target_bank"], ""))
        label = f"Ids that did not match: {r['title']}" + (f" ({count:,})" if count else "")
        _problems(label, problem_lines(report, *banks))


def coverage_by_relationship_figure(rows: list[dict[str, Any]]) -> go.Figure:
    """One horizontal stacked bar per mapping: its target questions reached, by relationship."""
    names = [wrapped(r["title"]) for r in rows]
    series = []
    for relationship, (label, colour) in RELATIONSHIPS.items():
        counts = [r["by_relationship"].get(relationship, 0) for r in rows]
        if any(counts):
            hover = [
                f"{name}<br>{label}: {n:,} of {r['target_questions']:,}"
                for name, n, r in zip(names, counts, rows, strict=True)
            ]
            series.append((label, colour, counts, hover))
    title = "Target questions covered, by relationship"
    return stacked_bars(names, series, title, "Target questions", row_height=50)


def wrapped(text: str, width: int = 28) -> str:
    """A long label on short lines for a Plotly axis (escaped, broken at spaces, _ and -)."""
    lines: list[str] = []
    for word in re.split(r"(?<=[\s_-])", text):
        if lines and len(lines[-1]) + len(word) <= width:
            lines[-1] += word
        else:
            lines += [word[i : i + width] for i in range(0, len(word), width)] or [""]
    return "<br>".join(plotly_escape(line.strip()) for line in lines if line.strip())


def problem_count(report: dict[str, Any]) -> int:
    """How many ids of a mapping file did not become links to a question."""
    names = ("unresolved_sources", "unresolved_targets", "withdrawn_targets", "family_targets")
    return sum(len(report.get(name) or ()) for name in names)


def _n(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def problem_lines(report: dict[str, Any], source: str, target: str) -> list[str]:
    """What of a mapping file did not become a link, in plain sentences."""
    lines = [
        f"{_n(len(ids), f'{side} id matches', f'{side} ids match')} no question of {bank}: "
        + ", ".join(ids[:SHOWN])
        + (f" and {len(ids) - SHOWN:,} more." if len(ids) > SHOWN else ".")
        for ids, side, bank in (
            (report.get("unresolved_sources") or [], "source", source),
            (report.get("unresolved_targets") or [], "target", target),
        )
        if ids
    ]
    if withdrawn := report.get("withdrawn_targets") or {}:
        lines.append(
            f"{_n(len(withdrawn), 'target control was', 'target controls were')} withdrawn: "
            + "; ".join(f"{raw} (now part of {into})" for raw, into in withdrawn.items())
            + "."
        )
    if families := report.get("family_targets") or {}:
        lines.append(
            f"{_n(len(families), 'target names', 'targets name')} a whole family rather than a "
            "control, so no answer is carried to its controls: "
            + "; ".join(r if r.lower() == f.lower() else f"{r} ({f})" for r, f in families.items())
            + "."
        )
    if n := report.get("duplicates"):
        lines.append(f"{_n(n, 'repeated pair was', 'repeated pairs were')} read once.")
    return lines


def _problems(label: str, lines: list[str]) -> None:
    with st.expander(md_escape(label), icon=":material/link_off:"):
        for line in lines or ["Every id in the file matched a question of the two banks."]:
            st.markdown(md_escape(line))


def mapping_upload() -> None:
    """Upload a mapping file, choose its banks, see what importing it will do, import it."""
    st.subheader("Import a mapping")
    st.caption(
        "An OSCAL mapping collection (JSON, XML or YAML), a NIST OLIR workbook (XLSX) or a CSV "
        "with `source_id`, `target_id` and `relationship` columns. The two banks are found from "
        "the ids unless you choose them; the same mapping again changes nothing."
    )
    upload = st.file_uploader(  # a new key after an import empties it
        "Mapping file",
        type=["json", "xml", "yaml", "yml", "xlsx", "csv"],
        key=f"mapping_file{st.session_state.get(ROUND, 0)}",
    )
    titles = load(lambda s, a: bank_titles(s))
    choices = ["", *sorted(titles, key=lambda k: titles[k].lower())]
    left, middle, right = st.columns(3)
    source, target = (
        column.selectbox(label, choices, format_func=lambda k: titles.get(k, FROM_THE_IDS)) or None
        for column, label in ((left, "Source bank"), (middle, "Target bank"))
    )
    licence = right.text_input("Licence", placeholder="Not stated", help="Shown in the list.")
    if upload is not None:
        _plan_and_import(upload.name, upload.getvalue(), source, target, licence.strip())
    feedback(SLOT)


def _plan_and_import(
    name: str, data: bytes, source: str | None, target: str | None, licence: str
) -> None:
    if source is not None and source == target:
        st.error("Choose two different banks: a mapping goes from one bank to another.")
        return
    try:
        mapping = read_mapping(name, data)
        with reading() as s:
            plan = plan_mapping(s, mapping, source_bank=source, target_bank=target)
    except SecureSphereError as exc:
        st.error(md_escape(str(exc)), icon=":material/error:")  # messages quote the file
        return
    _preview(plan)
    key = f"map_import{hashlib.sha256(data).hexdigest()[:10]}"
    if plan.action != "unchanged" and st.button(
        "Import mapping", type="primary", icon=":material/upload:", key=key
    ):
        _import(mapping, source, target, licence)


def _preview(plan: MappingPlan) -> None:
    report = plan.report
    st.markdown(
        f"**{md_escape(plan.title)}**: from {md_escape(plan.source_bank.title)} "
        f"v{plan.source_bank.version} to {md_escape(plan.target_bank.title)} "
        f"v{plan.target_bank.version}."
    )
    unresolved = len(report["unresolved_sources"]) + len(report["unresolved_targets"])
    reached = len({link.target_key for link in plan.links})
    a, b, c, d = st.columns(4)
    a.metric("Pairs in the file", f"{report['pairs']:,}")
    b.metric("Links to store", f"{report['links']:,}")
    c.metric("Ids matching no question", f"{unresolved:,}")
    d.metric("Target questions reached", f"{reached:,} of {len(plan.target_bank.questions):,}")
    st.caption("Links by relationship: " + md_escape(_by_relationship(report["relationships"])))
    for note in plan.notes:
        st.caption(f":material/info: From the file: {md_escape(note)}")
    lines = problem_lines(report, plan.source_bank.title, plan.target_bank.title)
    if lines:
        _problems(f"Ids that did not match ({problem_count(report):,})", lines)
    if plan.action == "unchanged":
        st.info(
            f"This mapping is already stored, unchanged (version {plan.version}): importing it "
            "again would change nothing.",
            icon=":material/check_circle:",
        )
        return
    what = "a new mapping" if plan.action == "new mapping" else "the next version of"
    st.info(
        f"Importing stores it as {what} {md_escape(plan.key)}, version {plan.version}, with "
        f"{len(plan.links):,} links.",
        icon=":material/upload:",
    )


def _import(mapping: MappingFile, source: str | None, target: str | None, licence: str) -> None:
    done: dict[str, Any] = {}

    def write(session, actor) -> None:
        # Planned again in the write transaction: store_mapping carries out a plan made in it.
        plan = plan_mapping(
            session, mapping, source_bank=source, target_bank=target, licence=licence
        )
        done.update(plan=plan, created=store_mapping(session, actor, plan)[1])

    if run_action(write, slot=SLOT):
        plan: MappingPlan = done["plan"]
        text = f"Mapping imported: {plan.title}, version {plan.version}, {len(plan.links):,} links."
        leave_message(SLOT, "success", text if done["created"] else "Already stored, unchanged.")
        st.session_state[ROUND] = st.session_state.get(ROUND, 0) + 1
        st.rerun()
