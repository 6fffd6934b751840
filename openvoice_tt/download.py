"""`openvoice-tt download`: the official checkpoint files, fetched explicitly into the checkpoint folder.

Which files: the converter, and for each base-speaker language asked for (English by default; see
`openvoice_tt.languages`) its MeloTTS folder, its BERT (unless left out) and its base-speaker embeddings;
a BERT that several languages share (EN, EN_V2, EN_NEWEST) is fetched once. Before fetching, each file's
size is asked of the hub (a HEAD request per file); a size the hub does not give is shown as unknown.

Nothing else in the package touches the network (spec §5.4). Files come from the Hugging Face hub through
huggingface_hub (`HF_ENDPOINT` and `HF_TOKEN` are honoured); files already present are kept unless
forced. The endpoint is probed first with a short timeout, so an offline machine gets the manual
instructions in seconds instead of after huggingface_hub's retries. Which file comes from which repo and
goes where is `openvoice_tt.layout`'s to say.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from openvoice_tt.errors import CheckpointError, shorten
from openvoice_tt.languages import EN, Language
from openvoice_tt.layout import ENGLISH, HUB_ENDPOINT, OPENVOICE_REPO, RemoteFile, official_files

# Names this module has always exported; the layout owns the values.
MELO_REPO = ENGLISH.repo
BERT_REPO = ENGLISH.bert.repo
DEFAULT_ENDPOINT = HUB_ENDPOINT
BASE_SPEAKERS = ENGLISH.speaker_embeddings
"""The English base-speaker embeddings of base_speakers/ses (each language's are its `MeloModel`'s)."""
PROBE_TIMEOUT = 10.0  # seconds
OFFLINE_VALUES = ("1", "on", "yes", "true")


DEFAULT_LANGUAGES: tuple[Language, ...] = (EN,)
"""What `download` fetches when no language is named: English, as before languages existed."""


def wanted_files(include_bert: bool = True, languages: Sequence[Language] = DEFAULT_LANGUAGES) -> list[RemoteFile]:
    """Every file `languages` need: the converter, their base-speaker embeddings, MeloTTS folders and BERTs."""
    return official_files(include_bert, tuple(language.model for language in languages))


def missing_files(
    folder: Path, include_bert: bool = True, languages: Sequence[Language] = DEFAULT_LANGUAGES
) -> list[RemoteFile]:
    return [f for f in wanted_files(include_bert, languages) if not (folder / f.target).is_file()]


@dataclass(frozen=True)
class PlannedFile:
    """A file `download` will fetch, with its size on the hub (None when the hub did not say)."""

    remote: RemoteFile
    size: int | None

    def to_json(self, folder: Path) -> dict[str, object]:
        r = self.remote
        return {"repo": r.repo, "filename": r.filename, "path": str(folder / r.target), "size": self.size}


class DownloadError(CheckpointError):
    """The files could not be fetched; `manual` lists, one line each, where to put which file by hand."""

    def __init__(self, message: str, folder: Path, files: list[RemoteFile], endpoint: str = DEFAULT_ENDPOINT) -> None:
        super().__init__(message)
        self.manual = [f"{f.url(endpoint)}  ->  {folder / f.target}" for f in files]


def endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def plan(
    folder: Path,
    include_bert: bool = True,
    force: bool = False,
    languages: Sequence[Language] = DEFAULT_LANGUAGES,
) -> list[PlannedFile]:
    """The files `download` would fetch into `folder` (the missing ones; all with `force`), each with its
    size on the hub. Asks the hub (a DownloadError, exit code 4, when it cannot be reached); an empty list,
    without asking, when every file is present."""
    todo = wanted_files(include_bert, languages) if force else missing_files(folder, include_bert, languages)
    if not todo:
        return []
    hub = endpoint()
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in OFFLINE_VALUES:
        raise DownloadError("cannot download: HF_HUB_OFFLINE is set", folder, todo)
    _probe(hub, folder, todo)
    return [PlannedFile(remote, _hub_size(remote, hub)) for remote in todo]


def download(
    folder: Path,
    include_bert: bool = True,
    force: bool = False,
    quiet: bool = False,
    on_file: Callable[[int, int, PlannedFile], None] | None = None,
    languages: Sequence[Language] = DEFAULT_LANGUAGES,
    planned: list[PlannedFile] | None = None,
) -> list[Path]:
    """Fetch the missing (or, with `force`, all) files of `languages` into `folder`; return the paths
    written. `planned` is `plan`'s answer when the caller already has it (it is asked for otherwise).

    Raises DownloadError (exit code 4) when offline, when the hub cannot be reached or a file fails, with
    the list of files still missing and where each one goes.
    """
    todo = plan(folder, include_bert, force, languages) if planned is None else planned
    if not todo:
        return []
    hub = endpoint()
    from huggingface_hub import hf_hub_download
    from huggingface_hub.utils import disable_progress_bars, logging

    logging.set_verbosity_error()  # its retry chatter; failures are reported below
    if quiet:
        disable_progress_bars()
    written = []
    for done, planned_file in enumerate(todo):
        remote = planned_file.remote
        if on_file is not None:
            on_file(done, len(todo), planned_file)
        try:
            path = hf_hub_download(
                remote.repo,
                remote.filename,
                local_dir=folder / remote.folder,
                endpoint=hub,
                etag_timeout=PROBE_TIMEOUT,
                force_download=force,
            )
        except _network_errors() as e:
            reason = shorten(str(e), 200) or type(e).__name__
            left = [p.remote for p in todo[done:]]
            raise DownloadError(
                f"downloading {remote.repo}/{remote.filename} failed ({reason})", folder, left, hub
            ) from None
        written.append(Path(path))
    if on_file is not None:
        on_file(len(todo), len(todo), todo[-1])
    return written


def _hub_size(remote: RemoteFile, hub: str) -> int | None:
    """The size the hub gives for `remote` (its HEAD answer), or None when it gives none or the request
    fails: a missing file is reported when its download fails, with the rest of the list."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    try:
        metadata = get_hf_file_metadata(hf_hub_url(remote.repo, remote.filename, endpoint=hub), timeout=PROBE_TIMEOUT)
    except _network_errors():
        return None
    return metadata.size


def _probe(hub: str, folder: Path, todo: list[RemoteFile]) -> None:
    """Fail in seconds, not after minutes of retries, when the hub cannot be reached at all."""
    request = urllib.request.Request(f"{hub}/api/models/{OPENVOICE_REPO}", method="HEAD")
    try:
        urllib.request.urlopen(request, timeout=PROBE_TIMEOUT).close()
    except urllib.error.HTTPError:
        return  # the server answered: reachable (per-file errors are reported when they happen)
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        raise DownloadError(f"cannot reach {hub} ({reason})", folder, todo, hub) from None


def _network_errors() -> tuple[type[BaseException], ...]:
    """What huggingface_hub raises for network and hub failures. Its HTTP errors derive from its HTTP
    library's `HTTPError`, which that library's connection and timeout errors share (the library differs
    between huggingface_hub versions, hence the lookup)."""
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError

    http_errors = [c for c in HfHubHTTPError.__mro__[1:] if c.__name__ == "HTTPError"]
    return (OSError, EntryNotFoundError, *http_errors)
