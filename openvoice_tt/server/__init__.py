"""`openvoice-tt serve`: an HTTP server that loads the models (and opens the device) once.

Endpoints (OpenAI's speech API where one exists, so its clients work unchanged):
  POST /v1/audio/speech  {model, input, voice, response_format: wav|flac|pcm, speed, seed?, language?} -> audio;
                         wav and pcm are streamed chunk by chunk (a WAV of unknown length), flac comes whole.
                         A base speaker's name picks its language's model (ES, FR, ZH, JP, KR, EN-Newest,
                         EN-US, ...), loaded on its first request and kept; `language` (en, en-v2, en-v3, es,
                         fr, zh, jp, kr) picks between models that share a name (EN-US of en and en-v2) and,
                         with a stored voice, the language it is cloned from (cross-lingual: that language's
                         first speaker); a stored voice without one (or with "auto") speaks the language
                         detected from `input`. `X-OpenVoice-Language` says which language spoke, and
                         `X-OpenVoice-Language-Reason` why when it was detected
  POST /v1/audio/speech/captioned  the same request (+ `stream`, `phones`) -> JSON {audio (base64 of the
                         speech endpoint's bytes), format, sample_rate, words, language, warnings}, each word's
                         start and end in seconds and samples (`Speech.words`); with `stream`: NDJSON, one line
                         per piece of audio with the words timed since the line before
  GET  /v1/voices        the base speakers of every installed language, each with its `language` (44.1 kHz,
                         MeloTTS), and the registered voices (22.05 kHz, cloned)
  POST /v1/voices        multipart: `name` + one or more reference recordings `file` (+ `replace=true` to
                         replace an existing voice) -> a voice embedding stored as <voices>/<name>.pth (a .pth
                         placed there by hand works the same)
  GET  /health           status, backend, precision (what each model runs in and why), the device queue and
                         the languages loaded so far (HEAD too)

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

The package, one concern a file:
  app.py       the routes (`create_app`): parsing requests, shaping answers, streaming the audio
  service.py   `SpeechService`: the models, voices, device queue and uploads folder behind the routes
  voices.py    the voices registry: name checks, atomic registration, reference length checks
  worker.py    the device worker: `Job`s run one at a time, `DeviceQueue` refusing past its limit
  limits.py    `Limits`, the body-size middleware and bounded JSON reading
  errors.py    OpenAI's error shape, the handlers that produce it, and scrubbing server paths from messages
  warnings.py  collecting a request's warnings and the `X-OpenVoice-Warnings` header

This file only re-exports their names (`from openvoice_tt.server import ...` keeps working); the modules
import each other by full path, never from here.
"""

from openvoice_tt.server.app import (
    CAPTIONED_PATH,
    FALSE,
    MEDIA_TYPES,
    RESPONSE_FORMATS,
    SPEECH_PATH,
    TRUE,
    VOICES_PATH,
    ClosingStream,
    create_app,
)
from openvoice_tt.server.errors import ApiError, ErrorResponse, PathScrubber
from openvoice_tt.server.limits import BodyLimit, Limits
from openvoice_tt.server.service import SpeechService
from openvoice_tt.server.voices import VOICE_NAME, VoiceRegistry
from openvoice_tt.server.warnings import MAX_WARNING_CHARS, MAX_WARNINGS_HEADER, WARNINGS_HEADER, warnings_header
from openvoice_tt.server.worker import DeviceQueue, Job

__all__ = [
    "CAPTIONED_PATH",
    "FALSE",
    "MAX_WARNINGS_HEADER",
    "MAX_WARNING_CHARS",
    "MEDIA_TYPES",
    "RESPONSE_FORMATS",
    "SPEECH_PATH",
    "TRUE",
    "VOICES_PATH",
    "VOICE_NAME",
    "WARNINGS_HEADER",
    "ApiError",
    "BodyLimit",
    "ClosingStream",
    "DeviceQueue",
    "ErrorResponse",
    "Job",
    "Limits",
    "PathScrubber",
    "SpeechService",
    "VoiceRegistry",
    "create_app",
    "warnings_header",
]
