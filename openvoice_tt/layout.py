"""The checkpoint folder's layout: which folder holds what, which hub repo each file comes from.

The only module that knows the folder names; the API, `download`, `doctor` and the CLI ask it for paths.
checkpoints/README.md documents the same layout for people:

    <checkpoints>/                 --checkpoints, else $OPENVOICE_TT_HOME, else ./checkpoints
      converter/                   OpenVoice V2 tone-color converter: config.json, checkpoint.pth
      base_speakers/ses/           one tone-color embedding per MeloTTS base speaker (en-us.pth, ...)
      melotts-english/             MeloTTS English: config.json, checkpoint.pth
      bert-base-uncased/           optional: the BERT that the three English models take prosody features from
      melotts-english-v2/, melotts-english-v3/, melotts-spanish/, melotts-french/,
      melotts-chinese/, melotts-japanese/, melotts-korean/         optional: the other languages
      bert-base-spanish-wwm-uncased/, bert-base-french-europeana-cased/,
      bert-base-multilingual-uncased/, bert-base-japanese-v3/, bert-kor-base/   their BERTs

A base-speaker language's files are one `MeloModel` entry (its MeloTTS folder and hub repo, its BERT, its
base-speaker embedding files); `MELO_MODELS` lists them, and `openvoice_tt.languages` ties each to its front
end. Each language's MeloTTS checkpoint has a folder of its own (melotts-spanish/, melotts-english-v3/, ...).
A low layer: imports nothing of the package but `errors`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from openvoice_tt.errors import CheckpointError, name_problem, shown_name

HOME_ENV = "OPENVOICE_TT_HOME"
"""Environment variable naming the checkpoint folder (when --checkpoints is not given)."""

DEFAULT_CHECKPOINTS = Path("checkpoints")
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "checkpoint.pth"
OPENVOICE_REPO = "myshell-ai/OpenVoiceV2"
HUB_ENDPOINT = "https://huggingface.co"


@dataclass(frozen=True)
class RemoteFile:
    """`filename` in hub repo `repo`, stored under `<checkpoints>/<folder>/<filename>`."""

    repo: str
    filename: str
    folder: str = ""

    @property
    def target(self) -> Path:
        return Path(self.folder) / self.filename

    def url(self, endpoint: str = HUB_ENDPOINT) -> str:
        return f"{endpoint}/{self.repo}/resolve/main/{self.filename}"


@dataclass(frozen=True)
class BertModel:
    """A BERT that a MeloTTS model takes prosody features from: its folder, hub repo and files."""

    folder: str
    repo: str
    files: tuple[str, ...] = (CONFIG_FILE, "model.safetensors", "vocab.txt")

    def remote_files(self) -> list[RemoteFile]:
        return [RemoteFile(self.repo, name, self.folder) for name in self.files]


@dataclass(frozen=True)
class MeloModel:
    """One base-speaker language: a MeloTTS checkpoint folder (config.json + checkpoint.pth, from its own
    hub repo), the BERT it reads, and the base-speaker embeddings (in OpenVoiceV2's base_speakers/ses) that
    its speakers' voices are converted from."""

    language: str
    folder: str
    repo: str
    bert: BertModel
    speaker_embeddings: tuple[str, ...]
    """File stems in base_speakers/ses (upstream ships more, for languages not listed here)."""

    def remote_files(self, include_bert: bool = True) -> list[RemoteFile]:
        files = [RemoteFile(self.repo, name, self.folder) for name in (CONFIG_FILE, WEIGHTS_FILE)]
        return files + self.bert.remote_files() if include_bert else files


@dataclass(frozen=True)
class ConverterModel:
    """The OpenVoice V2 tone-color converter and the base-speaker embeddings, both from `repo`, stored under
    the same relative paths as in the repo."""

    folder: str
    speaker_embeddings: str
    repo: str = OPENVOICE_REPO

    def remote_files(self) -> list[RemoteFile]:
        return [RemoteFile(self.repo, f"{self.folder}/{name}") for name in (CONFIG_FILE, WEIGHTS_FILE)]


BERT_BASE_UNCASED = BertModel("bert-base-uncased", "google-bert/bert-base-uncased")
BETO_UNCASED = BertModel(
    "bert-base-spanish-wwm-uncased",
    "dccuchile/bert-base-spanish-wwm-uncased",
    (CONFIG_FILE, "pytorch_model.bin", "vocab.txt", "tokenizer_config.json"),
)
FRENCH_EUROPEANA_CASED = BertModel(
    "bert-base-french-europeana-cased",
    "dbmdz/bert-base-french-europeana-cased",
    (CONFIG_FILE, "pytorch_model.bin", "vocab.txt", "tokenizer_config.json"),
)
MULTILINGUAL_UNCASED = BertModel(
    "bert-base-multilingual-uncased",
    "google-bert/bert-base-multilingual-uncased",
    (CONFIG_FILE, "model.safetensors", "vocab.txt", "tokenizer_config.json"),
)
JAPANESE_V3 = BertModel(
    "bert-base-japanese-v3",
    "tohoku-nlp/bert-base-japanese-v3",
    (CONFIG_FILE, "pytorch_model.bin", "vocab.txt", "tokenizer_config.json"),
)
KOREAN_KYKIM = BertModel(
    "bert-kor-base",
    "kykim/bert-kor-base",
    (CONFIG_FILE, "pytorch_model.bin", "vocab.txt", "tokenizer_config.json"),
)
ENGLISH_SPEAKERS = ("en-au", "en-br", "en-default", "en-india", "en-us")
ENGLISH = MeloModel(
    language="EN",
    folder="melotts-english",
    repo="myshell-ai/MeloTTS-English",
    bert=BERT_BASE_UNCASED,
    speaker_embeddings=ENGLISH_SPEAKERS,
)
ENGLISH_V2 = MeloModel(
    language="EN_V2",
    folder="melotts-english-v2",
    repo="myshell-ai/MeloTTS-English-v2",
    bert=BERT_BASE_UNCASED,
    speaker_embeddings=ENGLISH_SPEAKERS,
)
ENGLISH_NEWEST = MeloModel(
    language="EN_NEWEST",
    folder="melotts-english-v3",
    repo="myshell-ai/MeloTTS-English-v3",
    bert=BERT_BASE_UNCASED,
    speaker_embeddings=("en-newest",),
)
SPANISH = MeloModel(
    language="ES",
    folder="melotts-spanish",
    repo="myshell-ai/MeloTTS-Spanish",
    bert=BETO_UNCASED,
    speaker_embeddings=("es",),
)
FRENCH = MeloModel(
    language="FR",
    folder="melotts-french",
    repo="myshell-ai/MeloTTS-French",
    bert=FRENCH_EUROPEANA_CASED,
    speaker_embeddings=("fr",),
)
CHINESE = MeloModel(
    language="ZH",
    folder="melotts-chinese",
    repo="myshell-ai/MeloTTS-Chinese",
    bert=MULTILINGUAL_UNCASED,  # upstream loads "ZH" as ZH_MIX_EN, whose BERT this is
    speaker_embeddings=("zh",),
)
JAPANESE = MeloModel(
    language="JP",
    folder="melotts-japanese",
    repo="myshell-ai/MeloTTS-Japanese",
    bert=JAPANESE_V3,
    speaker_embeddings=("jp",),
)
KOREAN = MeloModel(
    language="KR",
    folder="melotts-korean",
    repo="myshell-ai/MeloTTS-Korean",
    bert=KOREAN_KYKIM,
    speaker_embeddings=("kr",),
)
MELO_MODELS = (ENGLISH, ENGLISH_V2, ENGLISH_NEWEST, SPANISH, FRENCH, CHINESE, JAPANESE, KOREAN)
"""The MeloTTS checkpoints, one per base-speaker language (`openvoice_tt.languages` adds the rest)."""
CONVERTER = ConverterModel("converter", "base_speakers/ses")

# The folder names on their own, as the API has exported them.
MELO_DIR = ENGLISH.folder
CONVERTER_DIR = CONVERTER.folder
SES_DIR = Path(CONVERTER.speaker_embeddings)
BERT_DIR = ENGLISH.bert.folder


def speaker_key(name: str) -> str:
    """Upstream's base-speaker file naming (spec §1.2): lower-case, `_` -> `-` (EN_INDIA -> en-india)."""
    return name.strip().lower().replace("_", "-")


@dataclass(frozen=True)
class ModelFolder:
    """A network's folder: its config.json and checkpoint.pth."""

    path: Path

    @property
    def config(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def weights(self) -> Path:
        return self.path / WEIGHTS_FILE

    def require(self) -> ModelFolder:
        """This folder, once both files are known to be present (a CheckpointError otherwise)."""
        require_files(self.config, self.weights)
        return self


@dataclass(frozen=True)
class Layout:
    """The paths in checkpoint folder `root` for the base-speaker language `melo_model` (nothing is read)."""

    root: Path
    melo_model: MeloModel = ENGLISH

    @property
    def melo(self) -> ModelFolder:
        return ModelFolder(self.root / self.melo_model.folder)

    @property
    def converter(self) -> ModelFolder:
        return ModelFolder(self.root / CONVERTER.folder)

    @property
    def bert(self) -> Path:
        return self.root / self.melo_model.bert.folder

    @property
    def speaker_embeddings(self) -> Path:
        return self.root / CONVERTER.speaker_embeddings

    def speaker_se(self, speaker: str) -> Path:
        """The tone-color embedding file of base speaker `speaker` (a config name, e.g. EN_INDIA). A name that
        is not a plain name (`name_problem`), or whose file would lie outside the speaker-embeddings folder,
        is a CheckpointError: the name came from a checkpoint file and must not lead anywhere else."""
        folder = self.speaker_embeddings
        problem = name_problem(speaker)
        if problem is None:
            path = folder / f"{speaker_key(speaker)}.pth"
            if path.resolve().parent == folder.resolve():
                return path
            problem = "leads outside the folder"
        raise CheckpointError(f"{folder}: base speaker name {shown_name(speaker)} {problem}; it cannot name a file")


def official_files(include_bert: bool = True, melo_models: tuple[MeloModel, ...] = (ENGLISH,)) -> list[RemoteFile]:
    """Every file of the layout, from the hub: the converter, the base-speaker embeddings of `melo_models`,
    and each of those MeloTTS checkpoints (with its BERT unless `include_bert` is False)."""
    stems = sorted({stem for model in melo_models for stem in model.speaker_embeddings})
    files = [
        *CONVERTER.remote_files(),
        *(RemoteFile(CONVERTER.repo, f"{CONVERTER.speaker_embeddings}/{stem}.pth") for stem in stems),
    ]
    for model in melo_models:
        files += model.remote_files(include_bert)
    return list(dict.fromkeys(files))  # models that share a BERT (EN, EN_V2, EN_NEWEST) list it once


def checkpoint_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The checkpoint folder: `explicit` (--checkpoints), else $OPENVOICE_TT_HOME, else ./checkpoints."""
    if explicit is not None:
        return Path(explicit)
    from_env = os.environ.get(HOME_ENV)
    return Path(from_env) if from_env else DEFAULT_CHECKPOINTS


def existing_checkpoint_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`checkpoint_dir`, which must be a folder (a CheckpointError saying how to get one otherwise)."""
    folder = checkpoint_dir(explicit)
    if not folder.is_dir():
        raise CheckpointError(
            f"{folder}: checkpoint folder not found (give --checkpoints or set {HOME_ENV}; "
            "'openvoice-tt download' fetches the files)"
        )
    return folder


def require_files(*paths: Path) -> None:
    """A CheckpointError naming the first of `paths` that is not a file, and where the layout is told."""
    for path in paths:
        if not path.is_file():
            raise CheckpointError(
                f"{path}: not found (layout: checkpoints/README.md; 'openvoice-tt download' fetches the files)"
            )
