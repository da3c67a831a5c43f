"""Cursor pagination: a page of rows after an opaque cursor, and the cursor of the next page.

A cursor is base64url JSON naming the listing and the last id seen; the rows come by id (keyset
pagination), so a page costs the same at row 10 as at row 10,000 and rows added meanwhile are
neither skipped nor repeated. A cursor of another listing, or one that is not ours, is a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from fastapi import Response
from pydantic import BaseModel

from core.api.problems import Problem

MAX_LIMIT = 200
DEFAULT_LIMIT = 100


class Page(BaseModel):
    """One page of a listing: its items and the cursor of the next page (null on the last)."""

    items: list[Any]
    next_cursor: str | None


def encode_cursor(listing: str, after: int) -> str:
    """The cursor of the page after the row with id `after`."""
    raw = json.dumps({"l": listing, "a": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(listing: str, cursor: str | None) -> int:
    """The id a cursor continues after (0 without one), or a 400 problem."""
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        after = data["a"]
        ok = data["l"] == listing and isinstance(after, int) and not isinstance(after, bool)
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeEncodeError):
        ok = False
    if not ok or after < 0:
        raise Problem(400, "bad-cursor", "The cursor is not one this listing gave out.")
    return int(after)


def page_of(listing: str, rows: list[Any], limit: int, key: str = "id") -> Page:
    """A page from up to limit + 1 rows fetched in id order (the extra one says there is more)."""
    items = rows[:limit]
    more = len(rows) > limit and items
    return Page(
        items=items, next_cursor=encode_cursor(listing, int(items[-1][key])) if more else None
    )


def page_response(model: type[BaseModel], listing: str, rows: list[Any], limit: int) -> Response:
    """A page validated once into its model and written as JSON by pydantic. The route names the
    model as its response_model for the docs; returning the model itself from a sync endpoint
    would have FastAPI validate it again, on one more trip to the threadpool and back."""
    page = page_of(listing, rows, limit)
    body = model.model_validate({"items": page.items, "next_cursor": page.next_cursor})
    return Response(body.model_dump_json(), media_type="application/json")
