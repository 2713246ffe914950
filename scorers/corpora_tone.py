"""The tone corpus: feedback that teaches sentiment from what is said, not what it is about.

The topic corpora (corpora.py) pair each topic with its own praise and complaints, so a model
trained on them alone leans on the subject ("加班" reads negative) and meets plain facts,
negation and "good, but ..." rarely. Here the same predicates are said of many aspects of
work: praise, complaints, mild complaints, negated complaints ("不算差", "isn't bad"),
negated praise, feelings, and statements of fact with no judgement. Two clauses joined by a
contrast take the tone of the second ("A，但是B" reads as B), as HR reads them. Pieces are in
corpora_tone_zh.py and corpora_tone_en.py; a predicate's position picks its family, and every
fifth family is held out of training, as in corpora.py.
"""

from __future__ import annotations

import random
import re
from typing import Any

from wendu.scorers import corpora, corpora_tone_en, corpora_tone_zh

PIECES: dict[str, Any] = {"zh": corpora_tone_zh, "en": corpora_tone_en}
# kind -> (pieces attribute, label)
_KINDS = {"pos": ("POS", "positive"), "neg": ("NEG", "negative"),
          "mild": ("MILD_NEG", "negative"), "notbad": ("NOT_BAD", "positive"),
          "notgood": ("NOT_GOOD", "negative"), "view": ("NEU_VIEWS", "neutral")}
_FAMILIES = 5
Clause = tuple[str, str, str, bool]  # text, label, family, held out


def _join(lang: str, *parts: str) -> str:
    return "".join(parts) if lang == "zh" else " ".join(p for p in parts if p)


def _said_of(lang: str, aspect: str, kind: str, pred: str, rng: random.Random) -> str:
    if kind != "view":
        if lang == "en" and pred.startswith("is ") and rng.random() < 0.4:
            pred = rng.choice(("was ", "has been ")) + pred[3:]  # feedback looks back, too
        return _join(lang, aspect, pred)
    return f"关于{aspect}，{pred}" if lang == "zh" else f"about {aspect}: {pred}"


def _clauses(lang: str, rng: random.Random, per_pred: int) -> list[Clause]:
    mod = PIECES[lang]
    out: list[Clause] = []
    for kind, (attr, label) in _KINDS.items():
        for i, pred in enumerate(getattr(mod, attr)):
            fam = f"{lang}:tone:{kind}:{i % _FAMILIES}"
            for aspect in rng.sample(mod.ASPECTS, per_pred):
                out.append((_said_of(lang, aspect, kind, pred, rng), label, fam,
                            i % _FAMILIES == _FAMILIES - 1))
    for attr, label in (("EVENTS_POS", "positive"), ("EVENTS_NEG", "negative"),
                        ("EVENTS_NEU", "neutral")):
        for i, frame in enumerate(getattr(mod, attr)):
            fam = f"{lang}:tone:{attr.lower()}:{i % _FAMILIES}"
            for aspect in rng.sample(mod.ASPECTS, per_pred):
                text = frame.replace("{aspect}", aspect)
                text = re.sub(r"\{(\w+)\}", lambda m: rng.choice(mod.FACT[m.group(1)]), text)
                out.append((text, label, fam, i % _FAMILIES == _FAMILIES - 1))
    for attr, verbs, label in (("LEX_POS", "VERB_POS", "positive"),
                               ("LEX_NEG", "VERB_NEG", "negative")):
        for i, word in enumerate(getattr(mod, attr)):
            fam, held = f"{lang}:tone:{attr.lower()}:{i % _FAMILIES}", i % _FAMILIES == 4
            for aspect in rng.sample(mod.ASPECTS, per_pred):
                adverb = rng.choice(mod.ADVERBS) if not word.startswith(("the ", "a ")) else ""
                out.append((_join(lang, aspect, "" if lang == "zh" else "is", adverb, word),
                            label, fam, held))
        for i, verb in enumerate(getattr(mod, verbs)):
            fam, held = f"{lang}:tone:{verbs.lower()}:{i % _FAMILIES}", i % _FAMILIES == 4
            for aspect in rng.sample(mod.ASPECTS, per_pred):
                out.append((_join(lang, "我" if lang == "zh" else "I", verb, aspect), label, fam,
                            held))
    for attr, label in (("FEEL_POS", "positive"), ("FEEL_NEG", "negative")):
        for i, feel in enumerate(getattr(mod, attr)):
            fam = f"{lang}:tone:{attr.lower()}:{i % _FAMILIES}"
            for opening in rng.sample(mod.FEEL_OPEN, 4):
                out.append((opening + feel, label, fam, i % _FAMILIES == _FAMILIES - 1))
    for i, frame in enumerate(mod.THANKS):
        fam = f"{lang}:tone:thanks:{i % _FAMILIES}"
        for _ in range(per_pred * 2):
            text = re.sub(r"\{(\w+)\}", lambda m: rng.choice(mod.THANKS_SLOTS[m.group(1)]), frame)
            out.append((text, "positive", fam, i % _FAMILIES == _FAMILIES - 1))
    for i, frame in enumerate(mod.FACT_FRAMES):
        fam = f"{lang}:tone:fact:{i % _FAMILIES}"
        for _ in range(per_pred * 4):
            text = re.sub(r"\{(\w+)\}", lambda m: rng.choice(mod.FACT[m.group(1)]), frame)
            out.append((text, "neutral", fam, i % _FAMILIES == _FAMILIES - 1))
    return out


def _sentence(lang: str, text: str) -> str:
    return text[:1].upper() + text[1:] if lang == "en" else text


def tone_examples(seed: int = 7, per_pred: int = 12, pairs: int = 1600) -> list[corpora.Example]:
    """Single clauses, contrasts and fact-then-opinion pairs, labelled by their tone."""
    rng = random.Random(seed + 101)
    out: list[corpora.Example] = []
    for lang, mod in PIECES.items():
        clauses = _clauses(lang, rng, per_pred)
        for text, label, fam, held in clauses:
            body = _sentence(lang, rng.choice(mod.OPEN) + text)
            out.append(corpora.Example(corpora.paraphrase(body, lang, rng, wrap=False), label,
                                       fam, lang, held))
        pools: dict[tuple[str, bool], list[Clause]] = {}
        for c in clauses:
            pools.setdefault((c[1], c[3]), []).append(c)
        for n in range(pairs):
            held = n % _FAMILIES == 0
            first, second = rng.sample(("positive", "negative", "neutral"), 2)
            a, b = rng.choice(pools[(first, held)]), rng.choice(pools[(second, held)])
            if second == "neutral":
                # A fact or a shrug after an opinion adds nothing: the opinion sets the tone.
                text, label = _join(lang, a[0], "。" if lang == "zh" else ".", b[0]), a[1]
            elif first == "neutral":
                text, label = _join(lang, a[0], "，" if lang == "zh" else ",", b[0]), b[1]
            elif rng.random() < 0.3:
                sep = "，但" if lang == "zh" else ", but"
                text, label = _join(lang, rng.choice(mod.CONCEDE) + a[0], sep, b[0]), b[1]
            else:
                text, label = a[0] + rng.choice(mod.CONTRAST) + b[0], b[1]
            out.append(corpora.Example(corpora.paraphrase(_sentence(lang, text), lang, rng,
                                                          wrap=False),
                                       label, f"{a[2]}+{b[2]}", lang, held))
    return out


def sentiment_examples(seed: int = 7) -> list[corpora.Example]:
    """What the sentiment model trains and is split-tested on: topic feedback plus tone."""
    return corpora.dedupe([*corpora.feedback_examples(seed), *tone_examples(seed)])
