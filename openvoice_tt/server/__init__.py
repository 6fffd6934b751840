"""`openvoice-tt serve`: an HTTP server that loads the models (and opens the device) once.

Endpoints (OpenAI's speech API where one exists, so its clients work unchanged):
  POST /v1/audio/speech  {model, input, voice, response_format: wav|flac|pcm, speed, seed?} -> audio; wav and
                         pcm are streamed chunk by chunk (a WAV of unknown length), flac comes whole
  GET  /v1/voices        the base speakers (44.1 kHz, MeloTTS) and the registered voices (22.05 kHz, cloned)
  POST /v1/voices        multipart: `name` + one or more reference recordings `file` (+ `replace=true` to
                         replace an existing voice) -> a voice embedding stored as <voices>/<name>.pth (a .pth
                         placed there by hand works the same)
  GET  /health           status, backend and the device queue (HEAD too)

Every request that computes runs on one worker thread, one at a time (`DeviceQueue`): the device is never
shared between requests, and at most `queue_limit` requests run or wait; the next one gets 503 at once.
Every error, the framework's own (unknown path 404, wrong method 405, unparsable multipart) and unexpected
ones (500) included, is JSON in OpenAI's shape ({"error": {"message", "type", "param", "code"}}), and no
message names a server path: the uploads, voices, checkpoint and cache folders are replaced by names the
client knows (an upload by its own file name) and any other absolute path by "<path>". Warnings about the
request (words left out of the text, a short reference) go to the client in the `X-OpenVoice-Warnings`
header (a JSON list, ASCII) and, for JSON answers, a "warnings" field, as well as to the server's log.
Voice names are checked against one pattern before any path is made from them, so no request reaches
outside the voices folder; a voice file appears whole and only once (written aside, then hard-linked in,
so of two requests for one name exactly one succeeds and the other gets 409). Uploads go to a private
temporary folder under names the server makes up, and bodies larger than `max_upload_bytes` are refused
(413) before they are read whole.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import re
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from openvoice_tt.errors import OpenVoiceError
from openvoice_tt.streaming import pcm16, wav_header

if TYPE_CHECKING:
    from openvoice_tt.api import VoiceCloner

VOICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
RESPONSE_FORMATS = ("wav", "flac", "pcm")
MEDIA_TYPES = {"wav": "audio/wav", "flac": "audio/flac", "pcm": "audio/pcm"}
SPEECH_PATH, VOICES_PATH = "/v1/audio/speech", "/v1/voices"
WARNINGS_HEADER = "X-OpenVoice-Warnings"
MAX_WARNINGS_HEADER = 4096  # bytes: well under the 8 KiB that proxies and clients accept for all headers
MAX_WARNING_CHARS = 500
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no", "")
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """What one request may ask for."""

    queue: int = 4  # requests running or waiting for the device
    max_input_chars: int = 4096  # OpenAI's limit for `input`
    max_body_bytes: int = 64 * 1024  # a speech request's JSON
    max_upload_bytes: int = 20 * 1024 * 1024  # a voice upload, all files together
    max_field_bytes: int = 1024  # a form field of a voice upload (a name, a flag)
    max_reference_seconds: float = 600.0  # a voice upload's recordings together, decoded
    item_timeout_seconds: float = 600.0  # longest wait for the next piece of audio


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


def _shown(value: Any, limit: int = 60) -> str:
    """A client's value quoted in a message, shortened (a body may hold a 60 kB list where a word belongs)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


# ------------------------------------------------------------------------------------------- the queue


_DONE = object()


class Job:
    """One request's work: `produce()` yields pieces, which the worker hands over through a small queue
    (so a client that reads slowly holds the device, and one that leaves releases it at the next piece).
    `warnings` collects what the work warned about, in order, once each; whatever came before a piece is
    there when the reader gets that piece."""

    def __init__(self, produce: Callable[[], Iterator[Any]], timeout: float) -> None:
        self.produce = produce
        self.timeout = timeout  # a reader that takes nothing for this long is taken to have gone
        self.out: queue.Queue[Any] = queue.Queue(maxsize=2)
        self.cancelled = threading.Event()
        self.warnings: list[str] = []

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


@contextlib.contextmanager
def _collected(into: list[str]) -> Iterator[None]:
    """Within the block, every UserWarning this thread raises (what the library says about its input:
    words left out, a short reference, a fallback) is appended to `into` (once per message) and still shown
    as before (the server's log). Each one is shown, not only the first from its line: the same words left
    out again are news to the next request. Other categories (a library's DeprecationWarning) concern the
    server's code, not the request: they are neither collected nor repeated.

    The warnings module's state is process-wide (Python 3.12 has no per-thread warning filters), so while
    the block runs other threads' UserWarnings are shown each time too; they are told apart by thread and
    never reach `into`. Only the device worker enters this block, one job at a time."""
    thread = threading.get_ident()
    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)
        shown = warnings.showwarning

        def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
            text = str(message)
            if threading.get_ident() == thread and issubclass(category, UserWarning) and text not in into:
                into.append(text)
            shown(message, category, *args, **kwargs)

        warnings.showwarning = show
        yield


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
                raise ApiError(
                    503,
                    f"server busy: {self.pending} requests running or queued (limit {self.limit})",
                    code="server_busy",
                )
            self.pending += 1
        self.jobs.put(job)

    def stop(self) -> None:
        self.jobs.put(None)

    def _work(self) -> None:
        while (job := self.jobs.get()) is not None:
            try:
                if not job.cancelled.is_set() and self._run(job):
                    job.hand_over(_DONE)
            except Exception as e:  # handed to the request, which answers it as JSON
                job.hand_over(e)
            finally:
                job.wake()
                with self.lock:
                    self.pending -= 1

    @staticmethod
    def _run(job: Job) -> bool:
        """Hand over every piece of `job`; False if its reader left. Warnings are collected only while the
        work runs, so the end (or the error) reaches the reader after the collecting has stopped."""
        with _collected(job.warnings), contextlib.closing(job.produce()) as pieces:
            return all(job.hand_over(piece) for piece in pieces)


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
        self.registering: set[str] = set()  # voice names (casefolded) a request is registering right now
        self.lock = threading.Lock()
        self.scrub = PathScrubber(self._private_folders())

    def _private_folders(self) -> dict[Path, str]:
        """The server's folders a message may name, each with the name a client sees instead."""
        tts, converter = self.cloner.tts, self.cloner.converter
        folders = {self.uploads: "<upload>", self.voices: "<voices>", converter.cache.folder: "<cache>"}
        folders.setdefault(tts.checkpoints, "<checkpoints>")
        folders.setdefault(converter.checkpoints, "<checkpoints>")
        folders.setdefault(Path(tempfile.gettempdir()), "<tmp>")
        folders.setdefault(Path.home(), "~")
        return folders

    def base_speaker(self, name: str) -> str | None:
        from openvoice_tt.api import speaker_key

        return next((s for s in self.cloner.tts.speakers if speaker_key(s) == speaker_key(name)), None)

    def voice_file(self, name: str) -> Path:
        """<voices>/<name>.pth for a name that matches VOICE_NAME (nothing else makes a path)."""
        if not isinstance(name, str) or not VOICE_NAME.fullmatch(name):
            raise ApiError(400, f"invalid voice name {_shown(name)} (letters, digits, - and _; at most 64)", "voice")
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

    @contextlib.contextmanager
    def claim(self, name: str, replace: bool) -> Iterator[Path]:
        """Hold voice `name` for one registering request (-> its file): a second request for the same name
        gets 409 at once, and so does a name already taken unless `replace`. The claim only answers early;
        `register` makes the file appear atomically, so a voice placed by hand (or by another server on
        the same folder) meanwhile is still never overwritten without `replace`."""
        if self.base_speaker(name) is not None:
            raise ApiError(409, f"'{name}' is a base speaker", "name", code="voice_exists")
        target = self.voice_file(name)
        key = name.casefold()  # "Me" and "me" are one file on a case-insensitive file system
        with self.lock:
            if key in self.registering:
                raise ApiError(409, f"voice '{name}' is being registered by another request", "name", code="voice_busy")
            if not replace and os.path.lexists(target):
                raise ApiError(
                    409, f"voice '{name}' already exists (send replace=true to replace it)", "name", code="voice_exists"
                )
            self.registering.add(key)
        try:
            yield target
        finally:
            with self.lock:
                self.registering.discard(key)

    def register(self, name: str, target: Path, files: list[Path], replace: bool) -> Callable[[], Iterator[Any]]:
        """Work for the device queue: the embedding of `files` stored as voice `name` at `target`. Written
        whole beside it first, then hard-linked in (fails if the name exists: 409) or, with `replace`,
        renamed over it: a reader sees the old voice or the new one, never a part, and never a voice
        replaced that the request did not ask to replace. The embedding cache is not used: a cache hit
        skips the reference checks and so their warnings, which this client must get (the voices folder
        is the server's store of embeddings)."""
        from openvoice_tt.api import save_se

        def produce() -> Iterator[dict[str, Any]]:
            self.check_references(files)
            embedding = self.cloner.converter.extract_se(files, use_cache=False)
            staged = target.with_name(f".{name}.{uuid.uuid4().hex[:12]}.partial")
            try:
                save_se(embedding, staged)
                if replace:
                    os.replace(staged, target)
                else:
                    try:
                        os.link(staged, target)
                    except FileExistsError:
                        raise ApiError(409, f"voice '{name}' already exists", "name", code="voice_exists") from None
            finally:
                staged.unlink(missing_ok=True)
            yield {"name": name, "kind": "embedding", "sample_rate": self.cloner.sample_rate}

        return produce

    def check_references(self, files: list[Path]) -> None:
        """Refuse (413) recordings that would decode to more than `max_reference_seconds` together, or one
        with more samples than that long at 48 kHz stereo, from their headers, before any is decoded: a
        compressed upload is small, what it decodes to need not be (16 kB of FLAC silence is 700 s at
        8 kHz; a header can claim 8 channels at 655 kHz). Decoding reads no more than the header says."""
        import soundfile as sf

        from openvoice_tt.audio import check_readable

        limit = self.limits.max_reference_seconds
        seconds = 0.0
        for path in files:
            check_readable(path)  # AudioError (400) naming the file for what is not audio
            info = sf.info(os.fspath(path))
            seconds += info.frames / info.samplerate
            if seconds > limit or info.frames * info.channels > limit * 48_000 * 2:
                raise ApiError(
                    413,
                    f"{path}: the recordings decode to more than {limit:g} s of audio (the limit)",
                    "file",
                    code="request_too_large",
                )

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


def warnings_header(messages: list[str]) -> dict[str, str]:
    """{X-OpenVoice-Warnings: a JSON list of `messages`} (none: {}). ASCII JSON, since a header value is
    latin-1 and may hold no line break (a word left out is often Chinese or an emoji: "\\u4f60"); each
    message at most MAX_WARNING_CHARS, and as many as fit MAX_WARNINGS_HEADER bytes (then a count of the
    rest)."""
    shown: list[str] = []
    for n, message in enumerate(messages):
        short = message if len(message) <= MAX_WARNING_CHARS else f"{message[: MAX_WARNING_CHARS - 3]}..."
        if len(json.dumps([*shown, short, f"and {len(messages)} more warnings"])) > MAX_WARNINGS_HEADER:
            shown.append(f"and {len(messages) - n} more warnings")
            break
        shown.append(short)
    return {WARNINGS_HEADER: json.dumps(shown)} if shown else {}


def _upload_name(filename: str | None, number: int) -> str:
    """How a message names upload `number`: by the client's file name (its last part, shortened)."""
    base = re.split(r"[/\\]", filename or "")[-1]
    base = "".join(c for c in base if c.isprintable())[:64]
    return f"upload {number} ({base})" if base else f"upload {number}"


def _flag(value: Any, param: str) -> bool:
    if value is None:
        return False
    if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
        return value.strip().lower() in TRUE
    raise ApiError(400, f"{param} must be true or false, got {_shown(value)}", param)


# ---------------------------------------------------------------------------------------------- the app


def create_app(service: SpeechService) -> FastAPI:
    """The FastAPI application over a loaded `SpeechService`."""

    limits = service.limits
    app = FastAPI(title="openvoice-tt", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(BodyLimit, limits=limits)

    def answer(error: ApiError, headers: Mapping[str, str] | None = None, echo: str = "") -> ErrorResponse:
        """`error` with no server path in its message, then `echo` (the client's own words, e.g. the path
        it asked for, which is not the server's to rewrite)."""
        error.message = service.scrub(error.message) + echo
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

    async def run(job: Job, named: Mapping[str, str] | None = None) -> Any:
        """Submit `job` and wait for its first item: an exception becomes the JSON error answer, its
        message with `named` (this request's own paths) replaced."""
        service.queue.submit(job)
        first = await run_in_threadpool(job.next, limits.item_timeout_seconds)
        if isinstance(first, ApiError):
            first.message = service.scrub(first.message, named)
            raise first
        if isinstance(first, OpenVoiceError):
            raise ApiError(400, service.scrub(str(first), named))
        if isinstance(first, Exception):  # the client learns its kind; the log gets the traceback
            _log.error("a request failed on the device worker", exc_info=first)
            raise ApiError(500, f"internal error: {type(first).__name__}")
        return first

    def told(job: Job, named: Mapping[str, str] | None = None) -> list[str]:
        return [service.scrub(message, named) for message in job.warnings]

    @app.api_route("/health", methods=["GET", "HEAD"])
    async def health() -> dict[str, Any]:
        tts = service.cloner.tts
        queued = {"pending": service.queue.pending, "limit": service.queue.limit}
        return {"status": "ok", "device": tts.device, "backend": tts.backend, "queue": queued}

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
        """OpenAI's speech endpoint; `seed` (an extension: extra_body in the openai client) as for the CLI."""
        body = await _json_body(request)
        text, voice = body.get("input"), body.get("voice")
        fmt = body.get("response_format") or "wav"
        speed, seed = body.get("speed", 1.0), body.get("seed", 0)
        if fmt not in RESPONSE_FORMATS:
            raise ApiError(
                400,
                f"response_format {_shown(fmt)} is not supported (use {', '.join(RESPONSE_FORMATS)})",
                "response_format",
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
        headers = {"X-Sample-Rate": str(rate), **warnings_header(told(job))}
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
