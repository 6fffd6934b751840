"""The FastAPI application: the routes of `openvoice-tt serve`, each parsing its request and shaping its answer.

Why here and nowhere else: this is the one place that knows HTTP for the endpoints (paths, fields, status
codes, streaming); what they stand on is `SpeechService` (service.py), errors are shaped by errors.py, the
limits are enforced by limits.py and the work runs on the device worker (worker.py).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
import warnings
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from openvoice_tt.errors import OpenVoiceError
from openvoice_tt.server.errors import ApiError, add_error_handlers, shown
from openvoice_tt.server.limits import BodyLimit, json_body
from openvoice_tt.server.service import LANGUAGE_HEADER, Speak, SpeechService
from openvoice_tt.server.warnings import warnings_header
from openvoice_tt.server.worker import DONE, Job
from openvoice_tt.streaming import pcm16, wav_header

if TYPE_CHECKING:
    from openvoice_tt.word_timings import WordTiming

RESPONSE_FORMATS = ("wav", "flac", "pcm")
MEDIA_TYPES = {"wav": "audio/wav", "flac": "audio/flac", "pcm": "audio/pcm"}
SPEECH_PATH, VOICES_PATH = "/v1/audio/speech", "/v1/voices"
CAPTIONED_PATH = f"{SPEECH_PATH}/captioned"
"""The speech endpoint with word timings (JSON with base64 audio, or NDJSON with `stream`)."""
NDJSON = "application/x-ndjson"
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no", "")
_log = logging.getLogger("openvoice_tt.server")  # one logger for the whole server, as an admin configures it


def create_app(service: SpeechService) -> FastAPI:
    """The FastAPI application over a loaded `SpeechService`; when the server shuts down, the service is
    closed (its device worker stopped, the Tenstorrent device closed if one was opened)."""

    limits = service.limits

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(service.close)

    app = FastAPI(title="openvoice-tt", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.add_middleware(BodyLimit, limits=limits, upload_paths=(VOICES_PATH,))
    add_error_handlers(app, service.scrub)

    async def run(job: Job, named: Mapping[str, str] | None = None) -> Any:
        """Submit `job` and wait for its first item: an exception becomes the JSON error answer, its
        message with `named` (this request's own paths) replaced."""
        service.queue.submit(job)
        return await taken(job, named)

    async def taken(job: Job, named: Mapping[str, str] | None = None) -> Any:
        """The next item of a submitted `job` (DONE at its end); an exception is raised as `run` says."""
        item = await run_in_threadpool(job.next, limits.item_timeout_seconds)
        if isinstance(item, Exception):
            raise answered(item, named)
        return item

    def answered(error: Exception, named: Mapping[str, str] | None = None) -> ApiError:
        """A job's exception as the client's ApiError: its own, a user error (400) or, with the traceback
        logged, an internal one naming only its kind (500); messages with server paths (and `named`, this
        request's own) replaced."""
        if isinstance(error, ApiError):
            error.message = service.scrub(error.message, named)
            return error
        if isinstance(error, OpenVoiceError):
            return ApiError(400, service.scrub(str(error), named))
        _log.error("a request failed on the device worker", exc_info=error)
        return ApiError(500, f"internal error: {type(error).__name__}")

    def told(job: Job, named: Mapping[str, str] | None = None) -> list[str]:
        return [service.scrub(message, named) for message in job.warnings]

    @app.api_route("/health", methods=["GET", "HEAD"])
    async def health() -> dict[str, Any]:
        tts, converter = service.cloner.tts, service.cloner.converter
        queued = {"pending": service.queue.pending, "limit": service.queue.limit}
        # every replica's, in order of first load (a language loads on each replica's first request in it)
        loaded = list(dict.fromkeys(language.code for r in service.replicas for language in r.pool.loaded))
        return {
            "status": "ok",
            "device": tts.device,
            "devices": [replica.index for replica in service.replicas],
            "backend": tts.backend,
            "precision": {"synth": tts.precision.to_json(), "convert": converter.precision.to_json()},
            "queue": queued,
            "languages_loaded": loaded,
        }

    @app.api_route(VOICES_PATH, methods=["GET", "HEAD"])
    async def voices() -> dict[str, Any]:
        return {"voices": service.voice_list()}

    @app.post(VOICES_PATH, status_code=201)
    async def add_voice(request: Request) -> JSONResponse:
        async with request.form(max_files=16, max_fields=4, max_part_size=limits.max_field_bytes) as form:
            name = form.get("name")
            replace = _flag(form.get("replace"), "replace")
            uploads = [item for item in form.getlist("file") if not isinstance(item, str)]
            if not isinstance(name, str):
                raise ApiError(400, "give the voice a name (form field 'name')", "name")
            if not uploads:
                raise ApiError(400, "upload at least one reference recording (form field 'file')", "file")
            with service.claim(name, replace) as target:
                files = [service.new_upload() for _ in uploads]
                named = {
                    str(p): _upload_name(u.filename, n) for n, (u, p) in enumerate(zip(uploads, files, strict=True), 1)
                }
                try:
                    for upload, path in zip(uploads, files, strict=True):
                        path.write_bytes(await upload.read())
                    job = Job(service.register(name, target, files, replace), limits.item_timeout_seconds)
                    voice = await run(job, named)
                finally:
                    for path in files:
                        path.unlink(missing_ok=True)
        said = told(job, named)
        return JSONResponse({**voice, "warnings": said}, status_code=201, headers=warnings_header(said))

    @app.post(SPEECH_PATH)
    async def speech(request: Request) -> StreamingResponse:
        """OpenAI's speech endpoint; `seed` and `language` (extensions: extra_body in the openai client) as
        --seed and --language of the CLI."""
        asked = _speech_request(await json_body(request), limits.max_input_chars)
        rate, speak, said = service.speech(asked.text, asked.voice, asked.speed, asked.seed, asked.language)
        job = Job(
            lambda replica: (data for data, _ in _encode(partial(speak, replica), asked.fmt, rate)),
            limits.item_timeout_seconds,
        )
        first = await run(job)
        headers = {"X-Sample-Rate": str(rate), **said, **warnings_header(told(job))}
        return ClosingStream(
            _rest(job, first, limits.item_timeout_seconds), media_type=MEDIA_TYPES[asked.fmt], headers=headers
        )

    @app.post(CAPTIONED_PATH)
    async def captioned(request: Request) -> Response:
        """The speech endpoint with word timings: the same request (+ `stream`, `phones`), answered as JSON
        with the audio in base64 and its words, or with `stream` as NDJSON, one line per piece of audio."""
        body = await json_body(request)
        asked = _speech_request(body, limits.max_input_chars)
        stream, phones = _flag(body.get("stream"), "stream"), _flag(body.get("phones"), "phones")
        rate, speak, said = service.speech(asked.text, asked.voice, asked.speed, asked.seed, asked.language)

        def line(data: bytes, words: tuple[WordTiming, ...]) -> dict[str, Any]:
            timed = [word.to_json(rate, phones) for word in words]
            return {
                "audio": base64.b64encode(data).decode("ascii"),
                "format": asked.fmt,
                "sample_rate": rate,
                "words": timed,
            }

        job = Job(
            lambda replica: _encode(partial(speak, replica), asked.fmt, rate, timed=True), limits.item_timeout_seconds
        )
        first = await run(job)
        headers = {"X-Sample-Rate": str(rate), **said, **warnings_header(told(job))}
        if stream:

            def last(error: Exception | None) -> bytes:
                """The stream's end, so a client can tell a whole answer from a cut one: the warnings of the
                whole request, or the error that stopped it."""
                return _ndjson(answered(error).body() if error else {"done": True, "warnings": told(job)})

            lines = _rest(job, first, limits.item_timeout_seconds, lambda item: _ndjson(line(*item)), last)
            return ClosingStream(lines, media_type=NDJSON, headers=headers)
        head = {"format": asked.fmt, "sample_rate": rate, "language": said[LANGUAGE_HEADER]}
        body = _captioned_json(job, first, limits.item_timeout_seconds, head, rate, phones, lambda: told(job))
        return ClosingStream(body, media_type="application/json", headers=headers)

    return app


class ClosingStream(StreamingResponse):
    """Closes its body when the response ends however it ends (a client gone mid-stream included), so the
    job is cancelled now rather than whenever the generator is collected."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.body_iterator.aclose()


async def _rest(
    job: Job,
    first: Any,
    timeout: float,
    shape: Callable[[Any], bytes] = lambda item: item,
    last: Callable[[Exception | None], bytes] | None = None,
) -> AsyncIterator[bytes]:
    """The response body: the first piece, then the rest as the worker makes it, each as `shape` makes it
    bytes, then what `last` makes of the end (None: the job ended, else the exception that stopped it after
    the status line was sent; without `last` the body just stops early). However it ends (done, failed, or
    the client gone and this generator closed), the job is cancelled so the worker moves on."""
    try:
        yield shape(first)
        while True:
            item = await run_in_threadpool(job.next, timeout)
            if item is DONE:
                if last is not None:
                    yield last(None)
                return
            if isinstance(item, Exception):  # the status line is sent: all that is left is to say so, or stop
                warnings.warn(f"speech stream failed after it started: {item}", RuntimeWarning, stacklevel=1)
                if last is not None:
                    yield last(item)
                return
            yield shape(item)
    finally:
        job.cancelled.set()


async def _captioned_json(
    job: Job,
    first: Any,
    timeout: float,
    head: dict[str, Any],
    rate: int,
    phones: bool,
    warned: Callable[[], list[str]],
) -> AsyncIterator[bytes]:
    """A captioned answer's one JSON object, written as the audio comes: `head`'s fields, then "audio" in
    base64 piece by piece (whole 3-byte groups, so the pieces join into one base64 string), then "words"
    and "warnings" once the audio is done. The server holds one piece at a time, never the whole answer;
    an answer cut by a failure after the status line is not valid JSON, so it never reads as complete."""
    opening = json.dumps(head, ensure_ascii=False)[:-1]
    yield f'{opening}, "audio": "'.encode()
    words: list[WordTiming] = []
    carry = b""

    def encoded(item: tuple[bytes, tuple[WordTiming, ...]]) -> bytes:
        nonlocal carry
        data, timed = item
        words.extend(timed)
        data, whole = carry + data, (len(carry) + len(data)) // 3 * 3
        carry = data[whole:]
        return base64.b64encode(data[:whole])

    def closing(error: Exception | None) -> bytes:
        if error is not None:
            return b""  # cut short: no closing brace
        tail = {"words": [word.to_json(rate, phones) for word in words], "warnings": warned()}
        return base64.b64encode(carry) + b'", ' + json.dumps(tail, ensure_ascii=False)[1:].encode()

    async for piece in _rest(job, first, timeout, encoded, closing):
        if piece:
            yield piece


def _ndjson(line: dict[str, Any]) -> bytes:
    return (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8")


def _encode(speak: Speak, fmt: str, rate: int, timed: bool = False) -> Iterator[tuple[bytes, tuple[WordTiming, ...]]]:
    """A request's audio -> (response bytes, the words timed since the previous bytes): wav/pcm piece by
    piece (a wav's header first, alone), flac whole at the end. `timed`: ask for the word timings (each
    chunk's arrive with its audio; none are asked for otherwise, so the plain endpoint's work is unchanged)."""
    words: list[WordTiming] | None = [] if timed else None
    pieces = speak(words)
    told = 0

    def new_words() -> tuple[WordTiming, ...]:
        nonlocal told
        fresh = tuple(words[told:]) if words is not None else ()
        told += len(fresh)
        return fresh

    if fmt == "flac":
        from openvoice_tt.audio import encode_audio

        yield encode_audio(np.concatenate(list(pieces)), rate, "flac"), new_words()
        return
    if fmt == "wav":
        yield wav_header(rate), ()
    for piece in pieces:
        yield pcm16(piece), new_words()
    if words is not None and told < len(words):  # words whose audio came with an earlier piece (a clone's last)
        yield b"", new_words()


def _upload_name(filename: str | None, number: int) -> str:
    """How a message names upload `number`: by the client's file name (its last part, shortened)."""
    base = re.split(r"[/\\]", filename or "")[-1]
    base = "".join(c for c in base if c.isprintable())[:64]
    return f"upload {number} ({base})" if base else f"upload {number}"


def _flag(value: Any, param: str) -> bool:
    """A yes/no field: a form's text (`TRUE`, `FALSE`) or a JSON boolean; absent is False."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
        return value.strip().lower() in TRUE
    raise ApiError(400, f"{param} must be true or false, got {shown(value)}", param)


@dataclass(frozen=True)
class SpeechRequest:
    """A speech request's fields, checked (`_speech_request`); voice, speed, seed and language are checked
    further by `SpeechService.speech` and the API it calls."""

    text: str
    voice: str
    fmt: str
    speed: Any
    seed: Any
    language: Any


def _speech_request(body: Mapping[str, Any], max_input_chars: int) -> SpeechRequest:
    """The checks of a speech request's body, for both speech endpoints: 400 naming the field."""
    text, voice = body.get("input"), body.get("voice")
    fmt = body.get("response_format") or "wav"
    if fmt not in RESPONSE_FORMATS:
        raise ApiError(
            400,
            f"response_format {shown(fmt)} is not supported (use {', '.join(RESPONSE_FORMATS)})",
            "response_format",
        )
    if body.get("stream_format", "audio") != "audio":
        raise ApiError(400, "only stream_format 'audio' is supported", "stream_format")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "input must be non-empty text", "input")
    if len(text) > max_input_chars:
        raise ApiError(400, f"input is {len(text)} characters (limit {max_input_chars})", "input")
    if not isinstance(voice, str):
        raise ApiError(400, "voice must be a voice name (GET /v1/voices lists them)", "voice")
    return SpeechRequest(text, voice, fmt, body.get("speed", 1.0), body.get("seed", 0), body.get("language"))
