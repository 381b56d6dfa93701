"""Loading the prepared offline model with transformers' Auto classes, hub offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def encoder(offline_model_dir: Path):
    from transformers import AutoModel, AutoTokenizer

    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    model = AutoModel.from_pretrained(str(offline_model_dir), use_safetensors=True).eval()
    return model, AutoTokenizer.from_pretrained(str(offline_model_dir))


def test_acceptance_translation_is_closer_than_an_unrelated_sentence(encoder) -> None:
    """The issue's acceptance check, with mean pooling as e5 was trained."""
    from xlt_lib.model import embed_sentences

    model, tokenizer = encoder
    english, german, unrelated = embed_sentences(
        model,
        tokenizer,
        ["The cat sleeps.", "Die Katze schläft.", "The stock market fell sharply on Monday."],
    )
    translation = float(english @ german)
    other = float(english @ unrelated)
    assert translation > other + 0.05, (translation, other)


def test_loads_as_a_sequence_classifier_offline(offline_model_dir: Path) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(
        str(offline_model_dir), num_labels=3, use_safetensors=True
    ).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(offline_model_dir))
    batch = tokenizer(
        ["A man is playing a guitar.", "Ein Mann spielt Gitarre."],
        ["Someone makes music.", "Niemand ist hier."],
        padding=True,
        return_tensors="pt",
    )
    with torch.inference_mode():
        logits = model(**batch).logits
    assert logits.shape == (2, 3) and torch.isfinite(logits).all()
    # The encoder came from the file (not re-initialised): same word embeddings as the plain encoder.
    from safetensors import safe_open

    with safe_open(str(offline_model_dir / "model.safetensors"), framework="pt") as weights:
        stored = weights.get_tensor("embeddings.word_embeddings.weight")[:100]
    assert torch.equal(model.base_model.embeddings.word_embeddings.weight[:100], stored)


def test_padding_does_not_change_embeddings(encoder) -> None:
    """pad_token_id=1 with the attention mask: a padded sentence embeds as it does alone."""
    import torch

    from xlt_lib.model import embed_sentences

    model, tokenizer = encoder
    alone = embed_sentences(model, tokenizer, ["Short one."])
    padded = embed_sentences(
        model, tokenizer, ["Short one.", "A much longer sentence that forces padding here."]
    )
    assert torch.allclose(alone[0], padded[0], atol=1e-5)


def test_verification_rejects_an_encoder_without_cross_lingual_structure(tiny_model_dir: Path) -> None:
    """The check that guards every conversion can fail: a random encoder does not pass it."""
    from xlt_lib.errors import ModelError
    from xlt_lib.model.verify import verify_model_dir

    with pytest.raises(ModelError, match=r"tiny-model.*translations do not embed closer"):
        verify_model_dir(tiny_model_dir)


def test_verification_passes_the_offline_model(offline_model_dir: Path) -> None:
    from xlt_lib.model.verify import verify_model_dir

    report = verify_model_dir(offline_model_dir)
    assert report["matched_cosine"] > report["unrelated_cosine"] + 0.1
    assert report["retrieval_accuracy"] >= 0.9
    assert set(report["matched_cosine_per_language"]) == {"de", "fr", "es", "zh", "ar", "hi", "ru"}
