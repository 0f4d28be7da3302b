"""KB → SFT synthesis, RAFT-style: question/answer pairs grounded in chunks of the shared store.

For each sampled "oracle" chunk the model writes one question (simple prompt: small models such as
SmolLM2-135M manage that). The answer is built, not free-generated: the chunk sentence that best
supports the question, quoted verbatim with its source number, plus the model's short answer when
that answer is usable. Each example's user turn holds the oracle chunk and ``k`` distractor chunks
in shuffled order, so the model learns to pick and cite the right source. ``meta["chunk_id"]``
keeps the oracle chunk id. Everything is written in the chunk's language (``synth_prompts``: zh,
en), and lengths and overlaps use the shared text functions (jieba words for Chinese, token
counts), never whitespace. Bad generations are dropped and counted by reason: empty question,
question refers to "the text"/"the passage", question not grounded in the chunk, no quote
overlapping the oracle chunk. When nothing survives, ``require_pairs`` says why.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable, Sequence
from typing import Any

from finetune.data.report import DataReport
from finetune.data.synth_prompts import EN, SynthLanguage, language_of
from finetune.data.types import Conversation, Turn
from vertical.core.errors import DataFormatError
from vertical.core.fsutil import atomic_write_text
from vertical.core.settings import get_settings
from vertical.core.spec import DomainSpec
from vertical.core.text import content_words, count_tokens, words
from vertical.core.text import sentences as split_sentences

Messages = list[dict[str, str]]
Generate = Callable[[Sequence[Messages], int], list[str]]
Progress = Callable[[str, int, int], None]

MIN_CHUNK_TOKENS = 30  # a chunk shorter than this (≈ 25 English words, ≈ 15 Chinese characters) holds no question
SENTENCE_WORDS = (5, 60)  # quotable sentences, in words (jieba words for Chinese)
MAX_SHORT_ANSWER_WORDS = 40
TOO_SHORT = "synth chunks too short"


def _stem(word: str) -> str:
    """Crude suffix stripping so "repeat" matches "repeating" (good enough for overlap filters)."""
    for suffix in ("ing", "ed", "es", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _terms(text: str) -> set[str]:
    """Content words for overlap filters: latin words of 4+ letters (stemmed), Chinese words of 2+ characters."""
    return {_stem(w) if w.isascii() else w for w in content_words(text) if (len(w) > 3 if w.isascii() else len(w) > 1)}


def sentences(text: str) -> list[str]:
    text = re.sub(r"^\s*#+\s*.*$", "", text, flags=re.M)  # headings are not quotable statements
    out = [" ".join(s.split()) for s in split_sentences(text)]
    return [s for s in out if SENTENCE_WORDS[0] <= len(words(s)) <= SENTENCE_WORDS[1]]


def supporting_sentence(question: str, chunk_text: str) -> str | None:
    """The chunk sentence sharing most content words with the question (None if none shares any)."""
    q = _terms(question)
    scored = [(len(q & _terms(s)), -i, s) for i, s in enumerate(sentences(chunk_text))]
    best = max(scored, default=(0, 0, None))
    return best[2] if best[0] > 0 else None


def clean_question(raw: str, lang: SynthLanguage = EN) -> str:
    """The first well-formed question in the model output ("" if there is none)."""
    return lang.clean_question(raw)


def question_prompt(chunk_text: str) -> Messages:
    return language_of(chunk_text).question_prompt(chunk_text)


def answer_prompt(chunk_text: str, question: str) -> Messages:
    return language_of(chunk_text).answer_prompt(chunk_text, question)


def grounded(answer: str, chunk_text: str, share: float = 0.6) -> bool:
    """Most content words of the answer occur in the chunk (a cheap hallucination filter)."""
    terms = _terms(answer)
    return bool(terms) and len(terms & _terms(chunk_text)) / len(terms) >= share


def question_problem(question: str, oracle: Any) -> str | None:
    if not question:
        return "empty question"
    if language_of(oracle.text).refers_to_text.search(question) or EN.refers_to_text.search(question):
        return "refers to the text"
    if not _terms(question) & _terms(oracle.text):
        return "question not grounded in the chunk"
    return None


def build_example(
    question: str, oracle: Any, distractors: list[Any], short_answer: str, rng: random.Random, system_prompt: str = ""
) -> tuple[Conversation | None, str | None]:
    """(conversation, None) or (None, reason it was filtered)."""
    problem = question_problem(question, oracle)
    if problem:
        return None, problem
    lang = language_of(oracle.text)
    short = " ".join(short_answer.split())
    usable_short = (
        bool(short)
        and not lang.refers_to_text.search(short)
        and not EN.refers_to_text.search(short)
        and len(words(short)) <= MAX_SHORT_ANSWER_WORDS
        and grounded(short, oracle.text)
    )
    # The model's (grounded) short answer helps pick the sentence that actually answers the question.
    quote = supporting_sentence(f"{question} {short if usable_short else ''}", oracle.text)
    if quote is None:
        return None, "question not grounded in the chunk"
    if " ".join(quote.split()) not in " ".join(oracle.text.split()):
        return None, "no quote overlapping the oracle chunk"
    sources = [oracle, *distractors]
    rng.shuffle(sources)
    number = sources.index(oracle) + 1
    context = "\n\n".join(f"[{i}] {s.text.strip()}" for i, s in enumerate(sources, 1))
    answer = lang.according_to.format(number=number, quote=quote)
    if usable_short and short.lower() not in quote.lower():
        answer = f"{short} {answer}"
    turns = ([Turn("system", system_prompt)] if system_prompt else []) + [
        Turn("user", f"{lang.sources_label}\n{context}\n\n{lang.question_label}{question}"),
        Turn("assistant", answer),
    ]
    meta = {
        "kind": "synth",
        "dataset": "kb-synth",
        "chunk_id": oracle.chunk_id,
        "source_doc": oracle.source,
        "distractor_ids": [d.chunk_id for d in distractors],
        "oracle_position": number,
        "language": lang.code,
    }
    return Conversation(turns, id=f"synth-{oracle.chunk_id}", source=f"kb:{oracle.source}", meta=meta), None


def usable_chunks(chunks: list[Any], report: DataReport) -> list[Any]:
    """Chunks long enough to ask about, measured in tokens (not whitespace words: Chinese has none)."""
    usable = [c for c in chunks if count_tokens(c.text) >= MIN_CHUNK_TOKENS and sentences(c.text)]
    report.count(TOO_SHORT, len(chunks) - len(usable))
    report.count("synth chunks considered", len(chunks))
    return usable


def _generate_by_language(
    generate: Generate, prompts: list[Messages], langs: list[SynthLanguage], budget: str
) -> list[str]:
    """One generate call per language in the batch, each with that language's token budget."""
    out = [""] * len(prompts)
    for code in dict.fromkeys(lang.code for lang in langs):
        idx = [i for i, lang in enumerate(langs) if lang.code == code]
        replies = generate([prompts[i] for i in idx], getattr(langs[idx[0]], budget))
        for i, reply in zip(idx, replies):
            out[i] = reply
    return out


def synthesize(
    chunks: list[Any],
    generate: Generate,
    n_pairs: int,
    k_distractors: int = 2,
    seed: int = 42,
    report: DataReport | None = None,
    system_prompt: str = "",
    batch_size: int = 8,
    on_progress: Progress | None = None,
) -> list[Conversation]:
    """Up to ``n_pairs`` grounded Q/A conversations from ``chunks`` (objects with chunk_id, text, source)."""
    report = report or DataReport()
    rng = random.Random(seed)
    usable = usable_chunks(chunks, report)
    candidates = rng.sample(usable, min(len(usable), max(n_pairs * 3, n_pairs + 4)))
    report.count("synth candidates", len(candidates))
    out: list[Conversation] = []
    pos = 0
    while len(out) < n_pairs and pos < len(candidates):
        batch = candidates[pos : pos + min(batch_size, n_pairs - len(out) + 1)]
        pos += len(batch)
        langs = [language_of(c.text) for c in batch]
        raw = _generate_by_language(
            generate, [lang.question_prompt(c.text) for c, lang in zip(batch, langs)], langs, "question_tokens"
        )
        questions = [lang.clean_question(q) for q, lang in zip(raw, langs)]
        # Ask for short answers only where the question passed its own filters (generation is the slow part).
        asks = [i for i, (c, q) in enumerate(zip(batch, questions)) if question_problem(q, c) is None]
        answers = [""] * len(batch)
        if asks:
            prompts = [langs[i].answer_prompt(batch[i].text, questions[i]) for i in asks]
            replies = _generate_by_language(generate, prompts, [langs[i] for i in asks], "answer_tokens")
            for i, reply in zip(asks, replies):
                answers[i] = reply
        for oracle, question, short in zip(batch, questions, answers):
            others = [c for c in usable if c.chunk_id != oracle.chunk_id and c.source != oracle.source] or [
                c for c in usable if c.chunk_id != oracle.chunk_id
            ]
            distractors = rng.sample(others, min(k_distractors, len(others)))
            conv, reason = build_example(question, oracle, distractors, short, rng, system_prompt)
            if conv is None:
                report.drop(f"synth: {reason}", None)
                report.example(f"synth: {reason}", question[:120] or "(no question in the output)")
            elif len(out) < n_pairs:
                out.append(conv)
            else:
                report.count("synth pairs beyond n (unused)")
        if on_progress:
            on_progress(f"synth (candidates {pos}/{len(candidates)})", len(out), n_pairs)
    report.count("synth pairs", len(out))
    return out


def require_pairs(convs: list[Conversation], report: DataReport) -> list[Conversation]:
    """DataFormatError (exit code 2) naming the reasons when synthesis produced nothing."""
    if convs:
        return convs
    counts = report.counts
    reasons = {k.removeprefix("synth: "): v for k, v in report.dropped.items() if k.startswith("synth: ")}
    why = ", ".join(f"{n} {reason}" for reason, n in reasons.items()) or "no generation passed"
    if counts.get("synth chunks considered", 0) == 0:
        raise DataFormatError(
            "0 Q/A pairs synthesised: the knowledge base has no chunks",
            hint="ingest the domain's documents first (vertical kb ingest <domain>)",
        )
    if counts.get("synth candidates", 0) == 0:
        raise DataFormatError(
            f"0 Q/A pairs synthesised: all {counts.get(TOO_SHORT, 0)} chunks are shorter than "
            f"{MIN_CHUNK_TOKENS} tokens",
            hint="raise knowledge.chunk_size, or add longer documents",
        )
    raise DataFormatError(
        f"0 Q/A pairs synthesised from {counts['synth candidates']} candidate chunks ({why})",
        hint="use a stronger generator (serving.engine: openai with an OpenAI-compatible endpoint), or more --n "
        "to try more chunks; the report lists the rejected questions",
    )


def generator_for(spec: DomainSpec) -> tuple[str, Generate]:
    """The configured model: an OpenAI-compatible endpoint when serving says so, else the local one."""
    from vertical.core.generate import OpenAIChat, chat_generate

    if spec.serving.engine == "openai" and spec.serving.openai_base_url:
        client = OpenAIChat(
            spec.serving.openai_base_url, spec.serving.openai_model or spec.base_model, spec.serving.openai_api_key_env
        )
        return f"openai:{client.model}", lambda convs, n: client.generate(convs, max_new_tokens=n)
    return spec.base_model, lambda convs, n: chat_generate(spec.base_model, convs, max_new_tokens=n)


def synthesize_for_spec(
    spec: DomainSpec,
    n_pairs: int | None = None,
    k_distractors: int = 2,
    seed: int = 42,
    report: DataReport | None = None,
    on_progress: Progress | None = None,
) -> list[Conversation]:
    """Synthesise from the domain's KB; cached per KB content hash + model + n + seed."""
    from knowledge.store import KnowledgeBase  # lazy: the store loads Chroma

    report = report or DataReport()
    n_pairs = n_pairs if n_pairs is not None else spec.data.synth_pairs
    kb = KnowledgeBase.for_domain(spec)
    model, generate = generator_for(spec)
    key = hashlib.sha256(json.dumps([kb.content_hash(), model, n_pairs, k_distractors, seed]).encode()).hexdigest()[:16]
    cache = get_settings().domain_dir(spec.name) / "data" / f"synth-{key}.jsonl"
    if cache.is_file():
        convs = [
            _from_json(json.loads(line)) for line in cache.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
        report.count("synth pairs (cached)", len(convs))
        return convs
    convs = synthesize(
        kb.all_chunks(),
        generate,
        n_pairs,
        k_distractors,
        seed,
        report,
        spec.system_prompt.strip(),
        on_progress=on_progress,
    )
    if convs:  # an empty result is not cached: a retry with another model or more chunks should run again
        atomic_write_text(cache, "".join(json.dumps(_to_json(c), ensure_ascii=False) + "\n" for c in convs))
    return convs


def _to_json(conv: Conversation) -> dict:
    return {"id": conv.id, "source": conv.source, "messages": conv.messages(), "meta": conv.meta}


def _from_json(record: dict) -> Conversation:
    return Conversation(
        [Turn(m["role"], m["content"]) for m in record["messages"]],
        record["id"],
        record.get("source", ""),
        record.get("meta", {}),
    )
