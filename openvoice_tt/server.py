"""`openvoice-tt serve`: an HTTP server that loads the models (and opens the device) once.

Endpoints (OpenAI's speech API where one exists, so its clients work unchanged):
  POST /v1/audio/speech  {model, input, voice, response_format: wav|flac|pcm, speed, seed?} -> audio; wav and
                         pcm are streamed chunk by chunk (a WAV of unknown length), flac comes whole
  GET  /v1/voices        the base speakers (44.1 kHz, MeloTTS) and the registered voices (22.05 kHz, cloned)
  POST /v1/voices        multipart: `name` + one or more reference recordings `file` -> a voice embedding
                         stored as <voices>/<name>.pth (a .pth placed there by hand works the same)
  GET  /health           status, backend and the device queue

Every request that computes runs on one worker thread, one at a time (`DeviceQueue`): the device is never
shared between requests, and at most `queue_limit` requests run or wait; the next one gets 503 at once.
Errors are JSON in OpenAI's shape ({"error": {"message", "type", "param", "code"}}). Voice names are
checked against one pattern before any path is made from them, so no request reaches outside the voices
folder; uploads go to a private temporary folder under names the server makes up, and bodies larger than
`max_upload_bytes` are refused (413) before they are read whole.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import tempfile
import threading
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from openvoice_tt.errors import OpenVoiceError
from openvoice_tt.streaming import pcm16, wav_header

if TYPE_CHECKING:
    from openvoice_tt.api import VoiceCloner

VOICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
RESPONSE_FORMATS = ("wav", "flac", "pcm")
MEDIA_TYPES = {"wav": "audio/wav", "flac": "audio/flac", "pcm": "audio/pcm"}
SPEECH_PATH, VOICES_PATH = "/v1/audio/speech", "/v1/voices"


@dataclass(frozen=True)
class Limits:
    """What one request may ask for."""

    queue: int = 4  # requests running or waiting for the device
    max_input_chars: int = 4096  # OpenAI's limit for `input`
    max_body_bytes: int = 64 * 1024  # a speech request's JSON
    max_upload_bytes: int = 20 * 1024 * 1024  # a voice upload, all files together
    item_timeout_seconds: float = 600.0  # longest wait for the next piece of audio


class ApiError(Exception):
    """An error answered as OpenAI-style JSON with an HTTP status."""

    def __init__(self, status: int, message: str, param: str | None = None, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.param, self.kind = status, message, param, kind

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": None}}


# ------------------------------------------------------------------------------------------- the queue


_DONE = object()


class Job:
    """One request's work: `produce()` yields pieces, which the worker hands over through a small queue
    (so a client that reads slowly holds the device, and one that leaves releases it at the next piece)."""

    def __init__(self, produce: Callable[[], Iterator[Any]], timeout: float) -> None:
        self.produce = produce
        self.timeout = timeout  # a reader that takes nothing for this long is taken to have gone
        self.out: queue.Queue[Any] = queue.Queue(maxsize=2)
        self.cancelled = threading.Event()

    def hand_over(self, item: Any) -> bool:
        """Put `item` for the reader; False once the reader has gone."""
        deadline = time.monotonic() + self.timeout
        while not self.cancelled.is_set() and time.monotonic() < deadline:
            with contextlib.suppress(queue.Full):
                self.out.put(item, timeout=0.1)
                return True
        self.cancelled.set()
        return False

    def wake(self) -> None:
        """Let a reader still waiting see the end (the worker is done with this job)."""
        with contextlib.suppress(queue.Full):
            self.out.put_nowait(_DONE)

    def next(self, timeout: float) -> Any:
        """The next piece, _DONE, or the exception the work raised (blocking; run it in a thread)."""
        try:
            return self.out.get(timeout=timeout)
        except queue.Empty:
            return ApiError(504, "timed out waiting for audio", kind="server_error")


class DeviceQueue:
    """Runs jobs one at a time on one worker thread; refuses a job when `limit` are running or waiting."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.jobs: queue.Queue[Job | None] = queue.Queue()
        self.pending = 0
        self.lock = threading.Lock()
        self.worker = threading.Thread(target=self._work, name="openvoice-tt-device", daemon=True)
        self.worker.start()

    def submit(self, job: Job) -> None:
        with self.lock:
            if self.pending >= self.limit:
                raise ApiError(503, f"server busy: {self.pending} requests running or queued (limit {self.limit})")
            self.pending += 1
        self.jobs.put(job)

    def stop(self) -> None:
        self.jobs.put(None)

    def _work(self) -> None:
        while (job := self.jobs.get()) is not None:
            try:
                if not job.cancelled.is_set():
                    with contextlib.closing(job.produce()) as pieces:
                        if all(job.hand_over(piece) for piece in pieces):
                            job.hand_over(_DONE)
            except Exception as e:  # handed to the request, which answers it as JSON
                job.hand_over(e)
            finally:
                job.wake()
                with self.lock:
                    self.pending -= 1


# ------------------------------------------------------------------------------------------ the service


class SpeechService:
    """The loaded models, the voices folder and the device queue behind the HTTP endpoints."""

    def __init__(self, cloner: VoiceCloner, voices: Path, limits: Limits = Limits()) -> None:
        self.cloner = cloner
        self.voices = voices.resolve()
        self.voices.mkdir(parents=True, exist_ok=True)
        self.limits = limits
        self.queue = DeviceQueue(limits.queue)
        self.uploads = Path(tempfile.mkdtemp(prefix="openvoice-tt-uploads-"))

    def base_speaker(self, name: str) -> str | None:
        from openvoice_tt.api import speaker_key

        return next((s for s in self.cloner.tts.speakers if speaker_key(s) == speaker_key(name)), None)

    def voice_file(self, name: str) -> Path:
        """<voices>/<name>.pth for a name that matches VOICE_NAME (nothing else makes a path)."""
        if not isinstance(name, str) or not VOICE_NAME.fullmatch(name):
            raise ApiError(400, f"invalid voice name {name!r} (letters, digits, - and _; at most 64)", "voice")
        return self.voices / f"{name}.pth"

    def voice_list(self) -> list[dict[str, Any]]:
        tts, converter = self.cloner.tts, self.cloner.converter
        base = [{"name": s, "kind": "base speaker", "sample_rate": tts.sample_rate} for s in tts.speakers]
        stored = sorted(p.stem for p in self.voices.glob("*.pth") if VOICE_NAME.fullmatch(p.stem))
        return base + [{"name": n, "kind": "embedding", "sample_rate": converter.sample_rate} for n in stored]

    def speech(self, text: str, voice: str, speed: float, seed: int) -> tuple[int, Callable[[], Iterator[np.ndarray]]]:
        """(sample rate, a function that streams the audio) for a request; the voice is checked here."""
        speaker = self.base_speaker(voice)
        if speaker is not None:
            tts = self.cloner.tts
            return tts.sample_rate, lambda: tts.stream(text, speaker, speed=speed, seed=seed)
        path = self.voice_file(voice)
        if not path.is_file():
            names = ", ".join(v["name"] for v in self.voice_list())
            raise ApiError(400, f"unknown voice '{voice}' (choose from {names})", "voice")
        return self.cloner.sample_rate, lambda: self.cloner.stream(text, se=path, speed=speed, seed=seed)

    def register(self, name: str, files: list[Path]) -> Callable[[], Iterator[dict[str, Any]]]:
        """Work for the device queue: the embedding of `files` stored as voice `name`."""
        from openvoice_tt.api import save_se

        if self.base_speaker(name) is not None:
            raise ApiError(409, f"'{name}' is a base speaker", "name")
        target = self.voice_file(name)
        if target.exists():
            raise ApiError(409, f"voice '{name}' already exists", "name")

        def produce() -> Iterator[dict[str, Any]]:
            save_se(self.cloner.converter.extract_se(files), target)
            yield {"name": name, "kind": "embedding", "sample_rate": self.cloner.sample_rate}

        return produce

    def new_upload(self) -> Path:
        fd, name = tempfile.mkstemp(dir=self.uploads, suffix=".audio")
        os.close(fd)
        return Path(name)


def _encode(pieces: Iterator[np.ndarray], fmt: str, rate: int) -> Iterator[bytes]:
    """Audio pieces -> response bytes: wav/pcm piece by piece, flac whole at the end."""
    if fmt == "flac":
        from openvoice_tt.audio import encode_audio

        yield encode_audio(np.concatenate(list(pieces)), rate, "flac")
        return
    if fmt == "wav":
        yield wav_header(rate)
    for piece in pieces:
        yield pcm16(piece)


# ---------------------------------------------------------------------------------------------- the app


def create_app(service: SpeechService) -> FastAPI:
    """The FastAPI application over a loaded `SpeechService`."""

    limits = service.limits
    app = FastAPI(title="openvoice-tt", docs_url=None, redoc_url=None)
    app.add_middleware(BodyLimit, limits=limits)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        return JSONResponse(error.body(), status_code=error.status)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, error: RequestValidationError) -> JSONResponse:
        problem = error.errors()[0] if error.errors() else {}
        param = ".".join(str(p) for p in problem.get("loc", ())[1:]) or None
        return JSONResponse(ApiError(400, str(problem.get("msg", "invalid request")), param).body(), 400)

    async def run(job: Job) -> Any:
        """Submit `job` and wait for its first item: an exception becomes the JSON error answer."""
        service.queue.submit(job)
        first = await run_in_threadpool(job.next, limits.item_timeout_seconds)
        if isinstance(first, ApiError):
            raise first
        if isinstance(first, OpenVoiceError):
            raise ApiError(400, str(first))
        if isinstance(first, Exception):
            raise ApiError(500, f"internal error: {type(first).__name__}", kind="server_error")
        return first

    @app.get("/health")
    async def health() -> dict[str, Any]:
        tts = service.cloner.tts
        queued = {"pending": service.queue.pending, "limit": service.queue.limit}
        return {"status": "ok", "device": tts.device, "backend": tts.backend, "queue": queued}

    @app.get(VOICES_PATH)
    async def voices() -> dict[str, Any]:
        return {"voices": service.voice_list()}

    @app.post(VOICES_PATH, status_code=201)
    async def add_voice(request: Request) -> dict[str, Any]:
        form = await request.form(max_files=16, max_fields=4, max_part_size=limits.max_upload_bytes)
        name = form.get("name")
        uploads = [item for item in form.getlist("file") if not isinstance(item, str)]
        if not isinstance(name, str):
            raise ApiError(400, "give the voice a name (form field 'name')", "name")
        if not uploads:
            raise ApiError(400, "upload at least one reference recording (form field 'file')", "file")
        files = [service.new_upload() for _ in uploads]
        try:
            for upload, path in zip(uploads, files, strict=True):
                path.write_bytes(await upload.read())
            return await run(Job(service.register(name, files), limits.item_timeout_seconds))
        finally:
            for path in files:
                path.unlink(missing_ok=True)

    @app.post(SPEECH_PATH)
    async def speech(request: Request) -> StreamingResponse:
        """OpenAI's speech endpoint; `seed` (an extension: extra_body in the openai client) as for the CLI."""
        body = await _json_body(request)
        text, voice = body.get("input"), body.get("voice")
        fmt = body.get("response_format") or "wav"
        speed, seed = body.get("speed", 1.0), body.get("seed", 0)
        if fmt not in RESPONSE_FORMATS:
            raise ApiError(
                400, f"response_format {fmt!r} is not supported (use {', '.join(RESPONSE_FORMATS)})", "response_format"
            )
        if body.get("stream_format", "audio") != "audio":
            raise ApiError(400, "only stream_format 'audio' is supported", "stream_format")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "input must be non-empty text", "input")
        if len(text) > limits.max_input_chars:
            raise ApiError(400, f"input is {len(text)} characters (limit {limits.max_input_chars})", "input")
        if not isinstance(voice, str):
            raise ApiError(400, "voice must be a voice name (GET /v1/voices lists them)", "voice")
        rate, stream = service.speech(text, voice, speed, seed)
        job = Job(lambda: _encode(stream(), fmt, rate), limits.item_timeout_seconds)
        first = await run(job)
        headers = {"X-Sample-Rate": str(rate)}
        return ClosingStream(
            _rest(job, first, limits.item_timeout_seconds), media_type=MEDIA_TYPES[fmt], headers=headers
        )

    return app


class ClosingStream(StreamingResponse):
    """Closes its body when the response ends however it ends (a client gone mid-stream included), so the
    job is cancelled now rather than whenever the generator is collected."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.body_iterator.aclose()


async def _json_body(request: Request) -> dict[str, Any]:
    import json

    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


async def _rest(job: Job, first: bytes, timeout: float) -> AsyncIterator[bytes]:
    """The response body: the first piece, then the rest as the worker makes it. However it ends (done,
    failed, or the client gone and this generator closed), the job is cancelled so the worker moves on."""
    try:
        yield first
        while True:
            item = await run_in_threadpool(job.next, timeout)
            if item is _DONE:
                return
            if isinstance(item, Exception):  # the status line is sent: all that is left is to stop early
                warnings.warn(f"speech stream failed after it started: {item}", RuntimeWarning, stacklevel=1)
                return
            yield item
    finally:
        job.cancelled.set()


class BodyLimit:
    """ASGI middleware: refuses a request body over the limit (413) from its Content-Length, or while it
    arrives when it has none, so an oversize upload is never read whole."""

    def __init__(self, app: Callable[..., Awaitable[None]], limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.max_upload_bytes if scope["path"] == VOICES_PATH else self.limits.max_body_bytes
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _refuse(send, limit)
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
                await _refuse(send, limit)


class _TooLarge(Exception):
    pass


async def _refuse(send: Callable, limit: int) -> None:
    import json

    body = json.dumps(ApiError(413, f"request body too large (limit {limit} bytes)").body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
