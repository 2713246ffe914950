"""The project's own text corpora: size, variety, determinism and an honest held-out split."""

from __future__ import annotations

from collections import Counter

import pytest

from wendu.scorers import corpora


@pytest.fixture(scope="module")
def intents():
    catalog = {k: v["examples"] for k, v in corpora.load_intent_catalog().items()}
    return corpora.intent_examples(catalog)


@pytest.fixture(scope="module")
def feedback():
    return corpora.feedback_examples()


def test_corpora_are_large_bilingual_and_cover_every_label(intents, feedback):
    assert len(intents) > 3000 and len(feedback) > 5000
    for examples, labels in ((intents, corpora.INTENTS), (feedback, corpora.SENTIMENTS)):
        train, held = corpora.split(examples)
        for part in (train, held):
            assert {e.label for e in part} == set(labels)
            assert Counter(e.lang for e in part).keys() == {"zh", "en"}
    topics = {t for e in corpora.split(feedback)[1] for t in e.topics}
    assert topics == set(corpora.TOPICS)
    # Paraphrase patterns are applied: typos, mixed zh/en and short search queries exist.
    texts = {e.text for e in intents}
    assert "公积金提取" in texts
    assert any("HPF" in t or "social insurance" in t for t in texts if "请" in t or "想" in t)
    assert any("公基金" in t or "报消" in t for t in texts)


def test_held_out_split_shares_no_family_and_no_text_with_training(intents, feedback):
    for examples in (intents, feedback):
        train, held = corpora.split(examples)
        assert held and len(held) < len(train)
        # A two-clause feedback text's family is its clauses' families joined by "+".
        families = [({*e.family.split("+")}, e.heldout) for e in examples]
        assert not set().union(*(f for f, h in families if not h)) & set().union(
            *(f for f, h in families if h))
        assert not {e.text for e in train} & {e.text for e in held}
        assert not any(e.family.startswith("catalog:") for e in held)


def test_generation_is_deterministic_and_the_seed_matters():
    assert corpora.intent_examples(seed=3) == corpora.intent_examples(seed=3)
    assert corpora.corpus_hash(corpora.feedback_examples(seed=3)) != corpora.corpus_hash(
        corpora.feedback_examples(seed=4))


def test_hr_catalog_file_adds_phrases_and_intents(tmp_path, monkeypatch):
    monkeypatch.delenv("WENDU_INTENTS_FILE", raising=False)
    (tmp_path / "intents.yaml").write_text(
        "intents:\n"
        "  payroll:\n    examples: [工资卡换绑]\n"
        "  visa_support:\n    description: {en: Work visas}\n"
        "    examples: [工作签证续签, work visa renewal, 签证材料]\n", "utf-8")
    catalog = corpora.load_intent_catalog(tmp_path)
    assert catalog["visa_support"]["examples"] == ["工作签证续签", "work visa renewal", "签证材料"]
    assert "工资卡换绑" in catalog["payroll"]["examples"]
    assert "工资明细查询" in catalog["payroll"]["examples"]  # the shipped phrases stay


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("intents:\n  Visa Help:\n    examples: [a, b, c]\n",
         ":2: intents.Visa Help: an intent name is lower_snake_case"),
        ("intents:\n  visa_support:\n    examples: [签证, visa]\n",
         ":3: intents.visa_support.examples: a new intent needs at least 3"),
        ("intents:\n  payroll:\n    examples: [ok, '']\n",
         ":3: intents.payroll.examples[1]: must be a non-empty phrase"),
        ("intents:\n  payroll:\n    exmaples: [a]\n",
         ":3: intents.payroll.exmaples: unknown field"),
        ("- just a list\n", ":1: intents: the file must be a mapping"),
        ("intents: [\n", "not valid YAML"),
    ],
)
def test_bad_catalog_file_names_file_line_and_field(tmp_path, monkeypatch, text, expected):
    path = tmp_path / "mine.yaml"
    path.write_text(text, "utf-8")
    monkeypatch.setenv("WENDU_INTENTS_FILE", str(path))
    with pytest.raises(corpora.IntentCatalogError) as exc:
        corpora.load_intent_catalog(tmp_path)
    assert str(path) in str(exc.value) and expected in str(exc.value)


def test_missing_intents_file_from_the_environment_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("WENDU_INTENTS_FILE", str(tmp_path / "nope.yaml"))
    with pytest.raises(corpora.IntentCatalogError, match="WENDU_INTENTS_FILE: no such file"):
        corpora.load_intent_catalog(None)
