"""Wendu's own text corpora: employee feedback (sentiment, topics) and questions to HR (intent).

Generated deterministically from the template families in corpora_zh.py and corpora_en.py:
each family's variants get their slots filled and are passed through paraphrase patterns
(politeness, colloquial openings, typos, Chinese with English HR terms). A family is either
training or HELD-OUT as a whole, so held-out metrics measure phrasings the model never saw;
`split` is the only way the trainers see data, and they train on its first part only.

The intent catalog (intents.yaml here, plus the HR team's own file) adds example phrases;
they always train, never count as held-out.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from wendu.scorers import corpora_en, corpora_zh
from wendu.scorers.artifacts import data_hash

SENTIMENTS = ("negative", "neutral", "positive")
TOPICS = ("workload", "manager", "pay_benefits", "growth_training", "team", "process_tools",
          "work_life_balance", "other")
INTENTS = ("social_insurance_transfer", "housing_fund_withdrawal", "rent_subsidy",
           "comp_time_off", "leave_request", "payroll", "employment_certificate",
           "reimbursement", "training", "resignation", "none")
LANGS = {"zh": corpora_zh, "en": corpora_en}
SHIPPED_CATALOG = Path(__file__).with_name("intents.yaml")
_POLARITY = {"neg": "negative", "neu": "neutral", "pos": "positive"}
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # intent, or sentiment for feedback
    family: str
    lang: str
    heldout: bool
    topics: tuple[str, ...] = ()


# --- paraphrase patterns -------------------------------------------------------------------

_ZH_WRAP = ["{x}", "{x}", "请问{x}", "您好，{x}", "HR你好，{x}", "{x}？", "{x}呀", "{x}，谢谢",
            "想问下{x}", "急！{x}", "{x}。。。", "hi {x}", "那个{x}", "我想问一下，{x}"]
_EN_WRAP = ["{x}", "{x}", "hi, {x}", "hello HR, {x}", "{x}?", "quick question: {x}",
            "{x}, thanks", "hey {x}", "{x} pls", "sorry to bother, {x}", "urgent: {x}",
            "{x} thx"]
# Common slips in Chinese input (same-sound characters) and the English HR words people mix in.
_ZH_TYPOS = {"公积金": "公基金", "证明": "证名", "报销": "报消", "调休": "掉休", "工资": "工支",
             "离职": "离织", "社保": "社报", "补贴": "补帖", "培训": "陪训"}
_ZH_MIXED = {"社保": "social insurance", "公积金": "HPF", "报销": "reimburse", "请假": "请个leave",
             "工资": "salary", "离职": "resign", "培训": "training",
             "在职证明": "employment letter",
             "经理": "manager", "加班": "OT", "团队": "team", "流程": "process"}
_FEEDBACK_OPEN = {"zh": ["", "", "说实话，", "个人觉得", "总的来说，", "匿名反馈：", "老实讲"],
                  "en": ["", "", "honestly, ", "I feel ", "overall, ", "to be frank, ", "tbh "]}


def _typo_en(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    i = rng.randrange(len(words))
    w = words[i]
    if len(w) > 4 and w.isalpha():
        j = rng.randrange(1, len(w) - 2)
        words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:] if rng.random() < 0.5 else w[:j] + w[j + 1:]
    return " ".join(words)


def _swap(text: str, table: dict[str, str], rng: random.Random) -> str:
    keys = [k for k in table if k in text]
    if not keys:
        return text
    key = rng.choice(keys)
    return text.replace(key, table[key], 1)


def paraphrase(text: str, lang: str, rng: random.Random, wrap: bool = True) -> str:
    if lang == "zh":
        roll = rng.random()
        if roll < 0.12:
            text = _swap(text, _ZH_TYPOS, rng)
        elif roll < 0.3:
            text = _swap(text, _ZH_MIXED, rng)
        return rng.choice(_ZH_WRAP).format(x=text) if wrap else text
    if rng.random() < 0.15:
        text = _typo_en(text, rng)
    if rng.random() < 0.3:
        text = text.lower() if rng.random() < 0.5 else text[:1].upper() + text[1:]
    return rng.choice(_EN_WRAP).format(x=text) if wrap else text


def _fill(template: str, slots: dict[str, list[str]], rng: random.Random) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: rng.choice(slots[m.group(1)]), template)


# --- intents ---------------------------------------------------------------------------------


def intent_examples(
    catalog: dict[str, list[str]] | None = None, seed: int = 7, per_variant: int = 10
) -> list[Example]:
    """Generated questions to HR (and ordinary chat as `none`), plus the catalog's phrases."""
    rng = random.Random(seed)
    out: list[Example] = []
    for lang, mod in LANGS.items():
        for intent, families in mod.INTENTS.items():
            for fi, family in enumerate(families):
                fam_id, held = f"{lang}:{intent}:{fi}", fi % 4 == 3
                for variant in family.split("|"):
                    for _ in range(per_variant):
                        text = paraphrase(_fill(variant, mod.SLOTS, rng), lang, rng)
                        out.append(Example(text, intent, fam_id, lang, held))
        for intent, terms in mod.INTENT_KW.items():
            for fi, family in enumerate(mod.GENERIC_ASK):
                fam_id, held = f"{lang}:{intent}:g{fi}", fi % 4 == 3
                for variant in family.split("|"):
                    for term in terms:
                        for _ in range(max(1, per_variant // 4)):
                            text = paraphrase(variant.format(kw=term), lang, rng)
                            out.append(Example(text, intent, fam_id, lang, held))
    for intent, phrases in (catalog or {}).items():
        for phrase in phrases:
            lang = "zh" if re.search(r"[\u4e00-\u9fff]", phrase) else "en"
            out.append(Example(phrase, intent, f"catalog:{intent}", lang, False))
            for _ in range(per_variant):
                out.append(Example(paraphrase(phrase, lang, rng), intent, f"catalog:{intent}",
                                   lang, False))
    return dedupe(out)


# --- feedback --------------------------------------------------------------------------------


def _clauses(seed: int) -> list[tuple[str, str, str, str, bool, str]]:
    """(text, topic, polarity, lang, heldout, family) for every filled clause variant."""
    rng = random.Random(seed)
    out = []
    for lang, mod in LANGS.items():
        for ti, (topic, by_pol) in enumerate(mod.FEEDBACK.items()):
            for pol, families in by_pol.items():
                for fi, family in enumerate(families):
                    held = (fi + ti) % 3 == 2
                    for variant in family.split("|"):
                        for _ in range(4):
                            out.append((_fill(variant, mod.SLOTS, rng), topic, pol, lang, held,
                                        f"{lang}:{topic}:{pol}:{fi}"))
        for pol, families in mod.GENERIC_FEEDBACK.items():
            for fi, family in enumerate(families):
                for variant in family.split("|"):
                    for ti, (topic, terms) in enumerate(mod.TOPIC_KW.items()):
                        for term in terms:
                            out.append((variant.format(kw=term), topic, pol, lang,
                                        (fi + ti) % 4 == 3, f"{lang}:{topic}:{pol}:g{fi}"))
    return out


def feedback_examples(seed: int = 7, per_clause: int = 3, pairs: int = 2500) -> list[Example]:
    """Feedback texts of one or two clauses; sentiment from their tone, topics from each."""
    rng = random.Random(seed)
    clauses = _clauses(seed)
    out: list[Example] = []

    def tail(lang: str, pol: str) -> str:
        mod = LANGS[lang]
        return rng.choice({"neg": mod.NEG_TAILS, "pos": mod.POS_TAILS, "neu": mod.NEU_TAILS}[pol])

    for text, topic, pol, lang, held, fam in clauses:
        for _ in range(per_clause):
            body = rng.choice(_FEEDBACK_OPEN[lang]) + text + tail(lang, pol)
            out.append(Example(paraphrase(body, lang, rng, wrap=False), _POLARITY[pol],
                               fam, lang, held, (topic,)))
    by_key: dict[tuple[str, bool], list[tuple[str, str, str, str, bool, str]]] = {}
    for c in clauses:
        by_key.setdefault((c[3], c[4]), []).append(c)
    for n in range(pairs):
        lang, held = ("zh", "en")[n % 2], n % 5 == 0
        pool = by_key[(lang, held)]
        a, b = rng.choice(pool), rng.choice(pool)
        if a[1] == b[1] or {a[2], b[2]} == {"neg", "pos"}:
            continue  # mixed praise and complaint has no single honest sentiment label
        pol = "neg" if "neg" in (a[2], b[2]) else "pos" if "pos" in (a[2], b[2]) else "neu"
        text = a[0] + tail(lang, a[2]) + rng.choice(LANGS[lang].CONNECT) + b[0] + tail(lang, b[2])
        out.append(Example(paraphrase(text, lang, rng, wrap=False), _POLARITY[pol],
                           f"{a[5]}+{b[5]}", lang, held, (a[1], b[1])))
    return dedupe(out)


def dedupe(examples: list[Example]) -> list[Example]:
    # The first occurrence wins; a text that lands in both parts is dropped from the held-out
    # part, so no held-out text was ever trained on.
    seen_train = {e.text for e in examples if not e.heldout}
    seen: set[str] = set()
    out = []
    for e in examples:
        if e.text in seen or (e.heldout and e.text in seen_train):
            continue
        seen.add(e.text)
        out.append(e)
    return out


def split(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    """(training, held-out): held-out families are never trained on."""
    return [e for e in examples if not e.heldout], [e for e in examples if e.heldout]


def corpus_hash(examples: list[Example]) -> str:
    return data_hash(*(f"{e.text}\t{e.label}\t{','.join(e.topics)}\n" for e in examples))


# --- the intent catalog and the HR team's extensions ------------------------------------------


class IntentCatalogError(ValueError):
    """A problem in an intents.yaml, naming the file, line and field."""


def user_catalog_path(data_dir: Path | None) -> Path | None:
    env = os.environ.get("WENDU_INTENTS_FILE")
    if env:
        path = Path(env)
        if not path.is_file():
            raise IntentCatalogError(f"WENDU_INTENTS_FILE: no such file: {path}")
        return path
    if data_dir is not None and (Path(data_dir) / "intents.yaml").is_file():
        return Path(data_dir) / "intents.yaml"
    return None


def _read_catalog(path: Path, shipped: bool) -> dict[str, dict[str, Any]]:
    text = path.read_text("utf-8")

    def fail(node: Any, where: str, message: str) -> IntentCatalogError:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        return IntentCatalogError(f"{path}{line}: {where}: {message}")

    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise IntentCatalogError(f"{path}{line}: not valid YAML: {exc}") from None
    if not isinstance(root, yaml.MappingNode):
        raise fail(root, "intents", "the file must be a mapping with an 'intents' key")
    top = {k.value: v for k, v in root.value}
    unknown = [k for k in top if k != "intents"]
    if unknown:
        raise fail(root, unknown[0], "unknown key; the file holds only 'intents'")
    node = top.get("intents")
    if not isinstance(node, yaml.MappingNode):
        raise fail(node or root, "intents", "must map intent names to {examples: [...]}")
    out: dict[str, dict[str, Any]] = {}
    for key, spec in node.value:
        name = key.value
        if not _NAME.match(str(name)):
            raise fail(key, f"intents.{name}", "an intent name is lower_snake_case, e.g. "
                       "'visa_support'")
        if not isinstance(spec, yaml.MappingNode):
            raise fail(spec, f"intents.{name}", "must be a mapping with 'examples'")
        fields = {k.value: v for k, v in spec.value}
        bad = [k for k in fields if k not in ("examples", "description")]
        if bad:
            raise fail(spec, f"intents.{name}.{bad[0]}", "unknown field; use 'examples' and "
                       "'description'")
        ex = fields.get("examples")
        if not isinstance(ex, yaml.SequenceNode) or not ex.value:
            raise fail(ex or spec, f"intents.{name}.examples", "must be a list of phrases")
        phrases = []
        for i, item in enumerate(ex.value):
            if not isinstance(item, yaml.ScalarNode) or not str(item.value).strip():
                raise fail(item, f"intents.{name}.examples[{i}]", "must be a non-empty phrase")
            phrases.append(str(item.value).strip())
        if not shipped and name not in INTENTS and len(phrases) < 3:
            raise fail(ex, f"intents.{name}.examples", "a new intent needs at least 3 "
                       "example phrases")
        out[name] = {"examples": phrases,
                     "description": yaml.safe_load(yaml.serialize(fields["description"]))
                     if "description" in fields else {}}
    return out


def load_intent_catalog(data_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """The shipped catalog merged with the HR team's file: {intent: {examples, description}}."""
    catalog = _read_catalog(SHIPPED_CATALOG, shipped=True)
    path = user_catalog_path(data_dir)
    if path is not None:
        for name, spec in _read_catalog(path, shipped=False).items():
            entry = catalog.setdefault(name, {"examples": [], "description": {}})
            entry["examples"] = [*entry["examples"], *spec["examples"]]
            entry["description"] = spec["description"] or entry["description"]
    return catalog


def catalog_text(data_dir: Path | None = None) -> str:
    """The user's file as text (for the training-data hash), empty when there is none."""
    path = user_catalog_path(data_dir)
    return path.read_text("utf-8") if path else ""
