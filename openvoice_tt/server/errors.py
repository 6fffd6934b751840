"""Every error the server answers, in OpenAI's shape ({"error": {"message", "type", "param", "code"}}), and
no message naming a server path.

Why one module: a client's SDK parses this shape whatever went wrong (a bad request, the framework's own 404
or 405, an unexpected 500), so the shape, the handlers that produce it and the scrubbing of server paths from
its message are one concern. The uploads, voices, checkpoint and cache folders are replaced by names the
client knows (an upload by its own file name) and any other absolute path by "<path>": a library's message
can name a file the server opened, which is none of the client's business.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException


class ApiError(Exception):
    """An error answered as OpenAI-style JSON with an HTTP status (type: server_error from 500 up,
    invalid_request_error below, as OpenAI's API answers)."""

    def __init__(
        self, status: int, message: str, param: str | None = None, kind: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code
        self.kind = kind or ("server_error" if status >= 500 else "invalid_request_error")

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


class ErrorResponse(JSONResponse):
    """An ApiError as a response. ASCII JSON: a message may quote the client's input, and a lone surrogate
    from a JSON escape cannot be encoded as UTF-8 (the error answer itself would fail)."""

    def __init__(self, error: ApiError, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(error.body(), status_code=error.status, headers=headers)

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def shown(value: Any, limit: int = 60) -> str:
    """A client's value quoted in a message, shortened (a body may hold a 60 kB list where a word belongs)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


# ------------------------------------------------------------------------------------- server paths


_ROUTES = ("/v1/", "/health")
# an absolute path of two or more parts (not one already replaced, e.g. "<voices>/me.pth")
_ABSOLUTE_PATH = re.compile(r"(?<![\w.~>/-])(?:/[^\s'\"(),:;<>/\\]+){2,}/?")


class PathScrubber:
    """Rewrites a message for the client: each server folder it knows by a name the client knows, and any
    other absolute path as "<path>" (a library's message can name a file the server opened: a temporary
    file, a model, a package). API routes ("/v1/...") stay as they are."""

    def __init__(self, folders: Mapping[Path, str]) -> None:
        spellings: dict[str, str] = {}
        for folder, name in folders.items():
            for spelling in {str(folder), os.path.realpath(folder), os.path.abspath(folder)}:
                if len(spelling) > 1:  # never "/" itself
                    spellings.setdefault(spelling, name)
        self.folders = sorted(spellings.items(), key=lambda item: -len(item[0]))  # the longest first

    def __call__(self, message: str, named: Mapping[str, str] | None = None) -> str:
        """`message` with no server path; `named` maps paths of this request (its uploads) to names."""
        for spelling, name in [*sorted((named or {}).items(), key=lambda item: -len(item[0])), *self.folders]:
            message = re.sub(re.escape(spelling) + r"(?![\w.-])", lambda _, name=name: name, message)
        return _ABSOLUTE_PATH.sub(lambda m: m[0] if m[0].startswith(_ROUTES) else "<path>", message)


# ------------------------------------------------------------------------------------------ handlers


def add_error_handlers(app: FastAPI, scrub: PathScrubber) -> None:
    """Answer every error `app` raises, the framework's own and unexpected ones included, as OpenAI-style
    JSON whose message `scrub` has cleared of server paths."""

    def answer(error: ApiError, headers: Mapping[str, str] | None = None, echo: str = "") -> ErrorResponse:
        """`error` with no server path in its message, then `echo` (the client's own words, e.g. the path
        it asked for, which is not the server's to rewrite)."""
        error.message = scrub(error.message) + echo
        return ErrorResponse(error, headers)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> ErrorResponse:
        return answer(error)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> ErrorResponse:
        """The framework's own errors (no route 404, wrong method 405, an unparsable form 400)."""
        where = f"{request.method} {request.url.path[:200]}"
        if error.status_code == 404:
            return answer(ApiError(404, "unknown endpoint: ", code="unknown_url"), error.headers, where)
        if error.status_code == 405:
            allowed = (error.headers or {}).get("Allow", "")
            refused = ApiError(405, "method not allowed: ", code="method_not_allowed")
            return answer(refused, error.headers, f"{where} (allowed: {allowed})")
        return answer(ApiError(error.status_code, str(error.detail)), error.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, error: RequestValidationError) -> ErrorResponse:
        problem = error.errors()[0] if error.errors() else {}
        param = ".".join(str(p) for p in problem.get("loc", ())[1:]) or None
        return answer(ApiError(400, str(problem.get("msg", "invalid request")), param))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> ErrorResponse:
        """Anything else: 500 naming only the kind of error (the details, paths included, are in the
        server's log, where the framework writes the traceback)."""
        return answer(ApiError(500, f"internal error: {type(error).__name__}"))
