"""What each kind of event says, in the bell and in e-mail: a subject line, paragraphs, quoted
text and a link to the page for the object; then the e-mail itself, plain text and HTML.

Everything that came from a person (names, notes, comments) is text: escaped with html.escape
in the HTML part, and in the subject and headers squeezed onto one line, so a product called
``x\\r\\nBcc: y`` is a subject that reads so and never a header. Invitation and password reset
messages carry a single-use link whose token is derived only here, when the message is written
(core/links.py): the outbox row holds no secret.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from core import links
from core.labels import format_date
from core.labels import format_datetime as shown_time

PREFIX = "[SecureSphere] "
MAX_SUBJECT = 200
_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


@dataclass(frozen=True)
class Rendered:
    """One message in words: subject, paragraphs, quoted texts (label, text) and a link."""

    subject: str
    lines: list[str] = field(default_factory=list)
    quotes: list[tuple[str, str]] = field(default_factory=list)
    link: str = ""  # a page path with its query, e.g. "review?assessment=12"
    link_label: str = "Open in SecureSphere"
    items: list[tuple[str, str, str]] = field(default_factory=list)  # digest: time, title, link
    footer: str = "You get this message from SecureSphere; choose what you get on My profile."


def one_line(text: str, limit: int = MAX_SUBJECT) -> str:
    """Text fit for a header: control characters and line breaks become one space."""
    flat = " ".join(_NOT_ONE_LINE.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _product(d: Mapping[str, Any]) -> str:
    return f"{d.get('product', '')} ({d.get('organization', '')})"


def _note(d: Mapping[str, Any], label: str = "Note from the reviewer") -> list[tuple[str, str]]:
    return [(label, str(d["note"]))] if d.get("note") else []


def _comments(d: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [
        (f"On “{c['question']}”" if c.get("question") else "On the assessment", str(c["body"]))
        for c in d.get("comments", [])
    ]


def _due(d: Mapping[str, Any]) -> str:
    return format_date(date.fromisoformat(str(d["due_date"])))


def _submitted(d: Mapping[str, Any]) -> Rendered:
    again = int(d.get("round", 1)) > 1
    verb = "resubmitted after changes" if again else "submitted for review"
    return Rendered(
        f"{_product(d)} was {verb}", [f"{d['actor']} {verb} the assessment of {_product(d)}."]
    )


def _claimed(d: Mapping[str, Any]) -> Rendered:
    return Rendered(
        f"Review of {d['product']} has started",
        [f"{d['actor']} started reviewing the assessment of {d['product']}."],
    )


def _assigned(d: Mapping[str, Any]) -> Rendered:
    return Rendered(
        f"{_product(d)} was assigned to you",
        [f"{d['actor']} assigned the assessment of {_product(d)} to you."],
    )


def _changes(d: Mapping[str, Any]) -> Rendered:
    return Rendered(
        f"Changes requested on {d['product']}",
        [
            f"{d['actor']} asks for changes to the assessment of {d['product']}. "
            "Update the flagged answers and submit it again."
        ],
        _note(d) + _comments(d),
    )


def _decided(verb: str) -> Callable[[Mapping[str, Any]], Rendered]:
    def render(d: Mapping[str, Any]) -> Rendered:
        return Rendered(
            f"{d['product']} was {verb}",
            [f"{d['actor']} {verb} the assessment of {d['product']}."],
            _note(d, "Reason" if verb == "rejected" else "Note from the reviewer"),
        )

    return render


def _comment(whose: str) -> Callable[[Mapping[str, Any]], Rendered]:
    def render(d: Mapping[str, Any]) -> Rendered:
        where = f"“{d['question']}”" if d.get("question") else "the assessment"
        product = d["product"] if whose == "reviewer" else _product(d)
        return Rendered(
            f"New comment from {d['actor']} on {product}",
            [f"{d['actor']} commented on {where} of {product}."],
            [("Comment", str(d.get("body", "")))],
        )

    return render


def _due_soon(d: Mapping[str, Any]) -> Rendered:
    return Rendered(
        f"{d['product']} is due on {_due(d)}",
        [f"The assessment of {d['product']} is due on {_due(d)}; it is not submitted yet."],
    )


def _overdue(d: Mapping[str, Any]) -> Rendered:
    return Rendered(
        f"{d['product']} is overdue",
        [f"The assessment of {d['product']} was due on {_due(d)} and is not submitted yet."],
    )


def _file(d: Mapping[str, Any]) -> str:
    where = f"“{d['question']}”" if d.get("question") else "the assessment"
    return f"The evidence file {d.get('filename', '')} on {where} of {d['product']}"


def _valid_until(d: Mapping[str, Any]) -> str:
    return format_date(date.fromisoformat(str(d["valid_until"])))


def _evidence_expiring(d: Mapping[str, Any]) -> Rendered:
    return Rendered(
        f"Evidence for {d['product']} expires on {_valid_until(d)}",
        [
            f"{_file(d)} is valid until {_valid_until(d)}.",
            "Add a current file, or set the day it is valid until, so the answer keeps its "
            "evidence in date.",
        ],
    )


def _evidence_expired(d: Mapping[str, Any]) -> Rendered:
    return Rendered(
        f"Evidence for {d['product']} has expired",
        [
            f"{_file(d)} was valid until {_valid_until(d)} and has expired.",
            "The answer no longer counts as backed by evidence in date; add a current file.",
        ],
    )


def _digest(d: Mapping[str, Any]) -> Rendered:
    items = d.get("items", [])
    return Rendered(
        f"Your daily digest: {len(items)} update{'' if len(items) == 1 else 's'}",
        ["What happened in SecureSphere since your last digest:"],
        items=[(str(i["time"]), str(i["title"]), str(i.get("link", ""))) for i in items],
    )


def _until(d: Mapping[str, Any]) -> str:
    return shown_time(str(d["expires_at"]))


def _invitation(d: Mapping[str, Any]) -> Rendered:
    where = f" at {d['organization']}" if d.get("organization") else ""
    return Rendered(
        f"{d['inviter']} invites you to SecureSphere",
        [
            f"{d['inviter']} invites you to SecureSphere, as {str(d['role']).lower()}{where}.",
            f"Open the link to choose your username and password. It works once, until "
            f"{_until(d)}.",
            "If you did not expect this invitation, ignore this message.",
        ],
        link=links.link_path(d),
        link_label="Accept the invitation",
        footer="You get this message because this address was invited to SecureSphere.",
    )


def _password_reset(d: Mapping[str, Any]) -> Rendered:
    return Rendered(
        "Choose a new password",
        [
            f"A new password was asked for the SecureSphere account {d['username']}.",
            f"Open the link to choose it. It works once, until {_until(d)}; every session of "
            "the account ends when you do.",
            "If you did not ask for this, ignore this message: your password stays as it is.",
        ],
        link=links.link_path(d),
        link_label="Choose a new password",
        footer="You get this message because a new password was asked for on the sign-in page.",
    )


def _plain(d: Mapping[str, Any]) -> Rendered:
    """A kind without a renderer of its own says what its data says."""
    return Rendered(str(d.get("subject", "Message")), [str(x) for x in d.get("lines", [])])


RENDERERS: dict[str, Callable[[Mapping[str, Any]], Rendered]] = {
    "submitted": _submitted,
    "claimed": _claimed,
    "assigned": _assigned,
    "changes_requested": _changes,
    "approved": _decided("approved"),
    "rejected": _decided("rejected"),
    "comment_to_client": _comment("reviewer"),
    "reply_to_reviewer": _comment("client"),
    "due_soon": _due_soon,
    "overdue": _overdue,
    "evidence_expiring": _evidence_expiring,
    "evidence_expired": _evidence_expired,
    "digest": _digest,
    "invitation": _invitation,
    "password_reset": _password_reset,
}


def describe(kind: str, data: Mapping[str, Any]) -> Rendered:
    """A row's message in words, its link taken from its data."""
    r = RENDERERS.get(kind, _plain)(data)
    link = r.link or str(data.get("link", ""))
    return Rendered(one_line(r.subject), r.lines, r.quotes, link, r.link_label, r.items, r.footer)


def build_message(
    rendered: Rendered,
    *,
    sender: Address,
    to_address: str,
    to_name: str,
    message_id: str,
    base_url: str,
    when: datetime,
) -> EmailMessage:
    """The e-mail: headers, a plain-text part and an HTML part with the same words."""
    msg = EmailMessage(policy=SMTP.clone(cte_type="7bit"))  # servers without 8BITMIME too
    msg["Subject"] = one_line(PREFIX + rendered.subject)
    msg["From"] = sender
    msg["To"] = Address(display_name=one_line(to_name, 100), addr_spec=to_address)
    msg["Message-ID"] = message_id
    msg["Date"] = format_datetime(when)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(_text(rendered, base_url))
    msg.add_alternative(_html(rendered, base_url), subtype="html")
    return msg


def _url(base_url: str, link: str) -> str:
    return f"{base_url}/{link}" if link else base_url


def _text(r: Rendered, base_url: str) -> str:
    parts = list(r.lines)
    parts += [f"- {when}: {title}\n  {_url(base_url, link)}" for when, title, link in r.items]
    for label, body in r.quotes:
        quoted = "\n".join("> " + line for line in body.splitlines() or [""])
        parts.append(f"{label}:\n{quoted}")
    parts.append(f"{r.link_label}: {_url(base_url, r.link)}")
    parts.append(r.footer)
    return "\n\n".join(parts) + "\n"


def _html(r: Rendered, base_url: str) -> str:
    e = html.escape
    body = [f"<p>{e(line)}</p>" for line in r.lines]
    if r.items:
        body.append("<ul>")
        body += [
            f'<li>{e(when)}: <a href="{e(_url(base_url, link), quote=True)}">{e(title)}</a></li>'
            for when, title, link in r.items
        ]
        body.append("</ul>")
    for label, text in r.quotes:
        body.append(
            f"<p><strong>{e(label)}</strong></p>"
            '<blockquote style="white-space: pre-wrap; border-left: 3px solid #ccc; '
            f'margin: 0 0 1em; padding-left: 0.8em">{e(text)}</blockquote>'
        )
    url = _url(base_url, r.link)
    body.append(f'<p><a href="{e(url, quote=True)}">{e(r.link_label)}</a></p>')
    body.append(f'<p style="color: #666; font-size: 0.9em">{e(r.footer)}</p>')
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{e(r.subject)}</title></head><body>{''.join(body)}</body></html>"
    )
