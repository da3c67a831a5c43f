"""One page of a long listing, with the total, so a page can say "page 2 of 9"."""

from __future__ import annotations

from typing import Generic, NamedTuple, TypeVar

Row = TypeVar("Row")


class Page(NamedTuple, Generic[Row]):
    """The rows of one page and how many rows the whole listing has."""

    rows: list[Row]
    total: int
