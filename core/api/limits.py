"""Request body size limits (an ASGI middleware) and the per-token rate limit.

Bodies: JSON at most JSON_LIMIT; evidence uploads up to the upload_max_mb setting and bank
imports up to the importers' 20 MB, each plus room for the multipart envelope. A body is refused
from its Content-Length before it is read, and counted while it streams in otherwise.

Rate: a token bucket per token in this process: api_rate_limit_per_minute requests, refilled
evenly over the minute. With several API processes each keeps its own buckets.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MB = 1024 * 1024
JSON_LIMIT = 1 * MB
ENVELOPE = 64 * 1024  # multipart boundaries and part headers around an upload
BANK_LIMIT = 20 * MB


class BodyTooLarge(Exception):
    """Raised into the app when a streamed body passes its limit."""


class BodyLimit:
    """Refuse request bodies over the limit the path allows with a 413 problem."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str, str], int]) -> None:
        self.app, self.limit_for = app, limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(scope, send, limit)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except BodyTooLarge:
            if not started:
                await _too_large(scope, send, limit)


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "type": "/api/problems/body-too-large",
            "title": "Request body too large",
            "status": 413,
            "detail": f"The request body may be at most {limit:,} bytes here.",
            "instance": scope["path"],
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """Token buckets by key: allow() says whether one more request fits, and if not how long
    until it would."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.buckets: dict[Any, tuple[float, float]] = {}  # key: (tokens left, at time)
        self.lock = threading.Lock()

    def allow(self, key: Any, per_minute: int) -> float:
        """0.0 when the request may go ahead (and is counted), else seconds to wait."""
        now, rate = self.clock(), per_minute / 60.0
        with self.lock:
            tokens, at = self.buckets.get(key, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - at) * rate)
            if tokens >= 1.0:
                self.buckets[key] = (tokens - 1.0, now)
                return 0.0
            self.buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate
