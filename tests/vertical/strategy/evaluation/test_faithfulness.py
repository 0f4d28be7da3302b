"""Faithfulness is measured against the domain's documents for every strategy: evidence is retrieved after
the fact (the KB is ingested once when a candidate without rag left it empty)."""

import pytest
import yaml

from vertical.core.spec import load_domain
from vertical.strategy.evaluation.answers import split_citations
from vertical.strategy.evaluation.faithfulness import evidence_kb, faithfulness, retrieve_evidence

DOC = (
    "# Velm tea\n\nVelm tea is brewed from the silver leaves of the krellberry shrub. It must steep for exactly "
    "seven minutes in water at 71 degrees. Velm tea was first served by the monks of Ostravel.\n"
)
OTHER = "# Kilns\n\nA bisque firing reaches about cone 04. Let the kiln cool slowly to avoid cracking the pots.\n"


@pytest.mark.slow  # ingest + embedder load: ~20 s on an idle 2-core machine
def test_evidence_kb_ingests_once_and_separates_supported_from_invented_answers(tmp_path, embedder_name):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "velm.md").write_text(DOC)
    (tmp_path / "docs" / "kilns.md").write_text(OTHER)
    (tmp_path / "domain.yaml").write_text(yaml.safe_dump({"name": "faith", "knowledge": {"sources": ["docs"]}}))
    spec = load_domain(tmp_path)
    stages = []
    kb = evidence_kb(spec, stages.append)
    assert kb is not None and kb.count() >= 2 and stages  # ingested because the store was empty
    assert evidence_kb(spec, stages.append).count() == kb.count() and len(stages) == 1  # not again

    question = "How long must velm tea steep?"
    supported = "Velm tea must steep for seven minutes in water at 71 degrees."
    invented = "Velm tea should boil for two hours with honey, lemon and cinnamon sticks from Zanzibar."
    evidence = retrieve_evidence(kb, question, supported, k=2)
    assert evidence and evidence[0].source.endswith("velm.md")
    good = faithfulness(supported, [h.text for h in evidence])
    bad = faithfulness(invented, [h.text for h in retrieve_evidence(kb, question, invented, k=2)])
    assert good >= 0.8 and bad <= 0.4, (good, bad)
    assert faithfulness("", [DOC]) is None and faithfulness(supported, []) is None  # nothing to check


def test_evidence_kb_is_none_without_documents(tmp_path):
    (tmp_path / "domain.yaml").write_text(yaml.safe_dump({"name": "nodocs", "knowledge": {"sources": []}}))
    assert evidence_kb(load_domain(tmp_path)) is None


def test_only_citations_the_model_wrote_count_as_written():
    from serving.answer import Answer

    wrote = Answer("Steep it seven minutes [1].", citations={"written": [1], "attributed": []})
    added = Answer("Steep it seven minutes [1].", citations={"written": [], "attributed": [1]})
    assert split_citations(wrote) == ([1], []) and split_citations(added) == ([], [1])
