"""What one request may ask for, and reading a request body within those bounds.

Why one module: a server that reads whatever it is sent can be made to hold a gigabyte upload, parse a JSON
nested a million deep or decode an hour of audio from 16 kB of FLAC. The limits are stated in one place
(`Limits`, set from `openvoice-tt serve`'s options) and enforced as early as possible: a body over its limit
is refused (413) from its Content-Length, or while it arrives when it has none, before it is read whole.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from openvoice_tt.audio import MAX_REFERENCE_SECONDS
from openvoice_tt.server.errors import ApiError


@dataclass(frozen=True)
class Limits:
    """What one request may ask for."""

    queue: int = 4  # requests running or waiting for the device
    max_input_chars: int = 4096  # OpenAI's limit for `input`
    max_body_bytes: int = 64 * 1024  # a speech request's JSON
    max_upload_bytes: int = 20 * 1024 * 1024  # a voice upload, all files together
    max_field_bytes: int = 1024  # a form field of a voice upload (a name, a flag)
    max_reference_seconds: float = (
        MAX_REFERENCE_SECONDS  # a voice upload's recordings together, decoded (the CLI's per-file bound)
    )
    item_timeout_seconds: float = 600.0  # longest wait for the next piece of audio


class BodyLimit:
    """ASGI middleware: refuses a request body over the limit (413) from its Content-Length, or while it
    arrives when it has none, so an oversize upload is never read whole. Paths in `upload_paths` may
    send `max_upload_bytes`, every other `max_body_bytes`."""

    def __init__(self, app: Callable[..., Awaitable[None]], limits: Limits, upload_paths: tuple[str, ...]) -> None:
        self.app = app
        self.limits = limits
        self.upload_paths = upload_paths

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.max_upload_bytes if scope["path"] in self.upload_paths else self.limits.max_body_bytes
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and not length.isdigit():
            await _refuse(send, ApiError(400, "invalid Content-Length"))
            return
        if length is not None and int(length) > limit:
            await _refuse(send, _too_large(limit))
            return
        seen = 0
        started = False

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
            return message

        async def watched(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not started:
                await _refuse(send, _too_large(limit))


class _TooLarge(Exception):
    pass


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"request body too large (limit {limit} bytes)", code="request_too_large")


async def _refuse(send: Callable, error: ApiError) -> None:
    body = json.dumps(error.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object. Whatever the parser refuses is a 400, not a 500: bad syntax or UTF-8, an
    integer of over 4300 digits (ValueError), nesting deeper than the interpreter's stack (RecursionError)."""
    try:
        body = json.loads(await request.body())
    except (ValueError, RecursionError) as e:
        reason = "it is nested too deeply" if isinstance(e, RecursionError) else str(e)
        raise ApiError(400, f"the body must be a JSON object ({reason[:200]})") from None
    if not isinstance(body, dict):
        raise ApiError(400, f"the body must be a JSON object, not {type(body).__name__}")
    return body
