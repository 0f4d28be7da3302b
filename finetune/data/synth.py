"""KB → SFT synthesis, RAFT-style: question/answer pairs grounded in chunks of the shared store.

For each sampled "oracle" chunk the model writes one question (simple prompt: small models such as
SmolLM2-135M manage that). The answer is built, not free-generated: the chunk sentence that best
supports the question, quoted verbatim with its source number, plus the model's short answer when
that answer is usable. Each example's user turn holds the oracle chunk and ``k`` distractor chunks
in shuffled order, so the model learns to pick and cite the right source. ``meta["chunk_id"]``
keeps the oracle chunk id. Bad generations are dropped and counted by reason: empty question,
question refers to "the text"/"the passage", question not grounded in the chunk, no quote
overlapping the oracle chunk.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable, Sequence
from typing import Any

from finetune.data.report import DataReport
from finetune.data.types import Conversation, Turn
from vertical.core.fsutil import atomic_write_text
from vertical.core.settings import get_settings

Messages = list[dict[str, str]]
Generate = Callable[[Sequence[Messages], int], list[str]]
Progress = Callable[[str, int, int], None]

REFERS_TO_TEXT = re.compile(r"\b(the|this|that|above|given|following)\s+(text|passage|article|excerpt|paragraph|document|section|source|context)\b", re.I)
STOP = set("what when where which while with would could should about there their these those this that have from into your they them then than does how why who are was were will can the and for you not but".split())
MIN_CHUNK_WORDS = 25


def _stem(word: str) -> str:
    """Crude suffix stripping so "repeat" matches "repeating" (good enough for overlap filters)."""
    for suffix in ("ing", "ed", "es", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _words(text: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"[a-z0-9']+", text.lower()) if len(w) > 3 and w not in STOP}


def sentences(text: str) -> list[str]:
    text = re.sub(r"^\s*#+\s*.*$", "", text, flags=re.M)  # headings are not quotable statements
    parts = re.split(r"(?<=[.!?])\s+|\n{2,}", text)
    return [p.strip() for p in (" ".join(x.split()) for x in parts) if 5 <= len(p.split()) <= 60]


def supporting_sentence(question: str, chunk_text: str) -> str | None:
    """The chunk sentence sharing most content words with the question (None if none shares any)."""
    q = _words(question)
    scored = [(len(q & _words(s)), -i, s) for i, s in enumerate(sentences(chunk_text))]
    best = max(scored, default=(0, 0, None))
    return best[2] if best[0] > 0 else None


QUESTION_RE = re.compile(r"\b(What|How|Why|When|Which|Who|Where|Can|Could|Is|Are|Does|Do|Should)\b[^?\n]{3,200}\?")
# Two worked examples: a 135M model copies the pattern instead of asking "what would you like to know?".
QUESTION_SHOTS = [
    ("Caffeine stays in the body for many hours, so coffee in the afternoon can make it harder to fall asleep at night.",
     "Why can afternoon coffee make it harder to fall asleep?"),
    ("A support group brings together people facing the same problem so they can share experiences and coping ideas.",
     "What is a support group?"),
]


def clean_question(raw: str) -> str:
    """The first well-formed question in the model output ("" if there is none)."""
    match = QUESTION_RE.search(raw.replace("\n", " "))
    return " ".join(match.group(0).split()) if match else ""


def question_prompt(chunk_text: str) -> Messages:
    ask = "\nWrite one question that this text answers."
    messages: Messages = []
    for text, question in QUESTION_SHOTS:
        messages += [{"role": "user", "content": f"Text: {text}{ask}"}, {"role": "assistant", "content": question}]
    return messages + [{"role": "user", "content": f"Text: {chunk_text.strip()}{ask}"}]


def answer_prompt(chunk_text: str, question: str) -> Messages:
    return [{"role": "user", "content": f"Text: {chunk_text.strip()}\n\nUsing the text, answer in one short sentence: {question}"}]


def grounded(answer: str, chunk_text: str, share: float = 0.6) -> bool:
    """Most content words of the answer occur in the chunk (a cheap hallucination filter)."""
    words = _words(answer)
    return bool(words) and len(words & _words(chunk_text)) / len(words) >= share


def question_problem(question: str, oracle: Any) -> str | None:
    if not question:
        return "empty question"
    if REFERS_TO_TEXT.search(question):
        return "refers to the text"
    if not _words(question) & _words(oracle.text):
        return "question not grounded in the chunk"
    return None


def build_example(question: str, oracle: Any, distractors: list[Any], short_answer: str, rng: random.Random,
                  system_prompt: str = "") -> tuple[Conversation | None, str | None]:
    """(conversation, None) or (None, reason it was filtered)."""
    problem = question_problem(question, oracle)
    if problem:
        return None, problem
    short = " ".join(short_answer.split())
    usable_short = (bool(short) and not REFERS_TO_TEXT.search(short) and len(short.split()) <= 40
                    and grounded(short, oracle.text))
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
    answer = f'According to [{number}]: "{quote}"'
    if usable_short and short.lower() not in quote.lower():
        answer = f"{short} {answer}"
    turns = ([Turn("system", system_prompt)] if system_prompt else []) + [
        Turn("user", f"Sources:\n{context}\n\nQuestion: {question}"), Turn("assistant", answer)]
    meta = {"kind": "synth", "dataset": "kb-synth", "chunk_id": oracle.chunk_id, "source_doc": oracle.source,
            "distractor_ids": [d.chunk_id for d in distractors], "oracle_position": number}
    return Conversation(turns, id=f"synth-{oracle.chunk_id}", source=f"kb:{oracle.source}", meta=meta), None


def synthesize(chunks: list[Any], generate: Generate, n_pairs: int, k_distractors: int = 2, seed: int = 42,
               report: DataReport | None = None, system_prompt: str = "", batch_size: int = 8,
               on_progress: Progress | None = None) -> list[Conversation]:
    """Up to ``n_pairs`` grounded Q/A conversations from ``chunks`` (objects with chunk_id, text, source)."""
    report = report or DataReport()
    rng = random.Random(seed)
    usable = [c for c in chunks if len(c.text.split()) >= MIN_CHUNK_WORDS and sentences(c.text)]
    report.count("synth chunks too short", len(chunks) - len(usable))
    candidates = rng.sample(usable, min(len(usable), max(n_pairs * 3, n_pairs + 4)))
    out: list[Conversation] = []
    pos = 0
    while len(out) < n_pairs and pos < len(candidates):
        batch = candidates[pos : pos + min(batch_size, n_pairs - len(out) + 1)]
        pos += len(batch)
        questions = [clean_question(q) for q in generate([question_prompt(c.text) for c in batch], 40)]
        # Ask for short answers only where the question passed its own filters (generation is the slow part).
        asks = [i for i, (c, q) in enumerate(zip(batch, questions)) if question_problem(q, c) is None]
        replies = generate([answer_prompt(batch[i].text, questions[i]) for i in asks], 40) if asks else []
        answers = [""] * len(batch)
        for i, reply in zip(asks, replies):
            answers[i] = reply
        for oracle, question, short in zip(batch, questions, answers):
            others = [c for c in usable if c.chunk_id != oracle.chunk_id and c.source != oracle.source] or \
                     [c for c in usable if c.chunk_id != oracle.chunk_id]
            distractors = rng.sample(others, min(k_distractors, len(others)))
            conv, reason = build_example(question, oracle, distractors, short, rng, system_prompt)
            if conv is None:
                report.drop(f"synth: {reason}", None)
                report.example(f"synth: {reason}", question[:120] or "(no question in the output)")
            elif len(out) < n_pairs:
                out.append(conv)
        if on_progress:
            on_progress("synth", len(out), n_pairs)
    report.count("synth pairs", len(out))
    return out


def generator_for(spec: Any) -> tuple[str, Generate]:
    """The configured model: an OpenAI-compatible endpoint when serving says so, else the local one."""
    from vertical.core.generate import OpenAIChat, chat_generate

    if spec.serving.engine == "openai" and spec.serving.openai_base_url:
        client = OpenAIChat(spec.serving.openai_base_url, spec.serving.openai_model or spec.base_model,
                            spec.serving.openai_api_key_env)
        return f"openai:{client.model}", lambda convs, n: client.generate(convs, max_new_tokens=n)
    return spec.base_model, lambda convs, n: chat_generate(spec.base_model, convs, max_new_tokens=n)


def synthesize_for_spec(spec: Any, n_pairs: int | None = None, k_distractors: int = 2, seed: int = 42,
                        report: DataReport | None = None, on_progress: Progress | None = None) -> list[Conversation]:
    """Synthesise from the domain's KB; cached per KB content hash + model + n + seed."""
    from knowledge.store import KnowledgeBase  # lazy: the store loads Chroma

    report = report or DataReport()
    n_pairs = n_pairs if n_pairs is not None else spec.data.synth_pairs
    kb = KnowledgeBase.for_domain(spec)
    model, generate = generator_for(spec)
    key = hashlib.sha256(json.dumps([kb.content_hash(), model, n_pairs, k_distractors, seed]).encode()).hexdigest()[:16]
    cache = get_settings().domain_dir(spec.name) / "data" / f"synth-{key}.jsonl"
    if cache.is_file():
        convs = [_from_json(json.loads(line)) for line in cache.read_text(encoding="utf-8").splitlines() if line.strip()]
        report.count("synth pairs (cached)", len(convs))
        return convs
    convs = synthesize(kb.all_chunks(), generate, n_pairs, k_distractors, seed, report,
                       spec.system_prompt.strip(), on_progress=on_progress)
    atomic_write_text(cache, "".join(json.dumps(_to_json(c), ensure_ascii=False) + "\n" for c in convs))
    return convs


def _to_json(conv: Conversation) -> dict:
    return {"id": conv.id, "source": conv.source, "messages": conv.messages(), "meta": conv.meta}


def _from_json(record: dict) -> Conversation:
    return Conversation([Turn(m["role"], m["content"]) for m in record["messages"]], record["id"],
                        record.get("source", ""), record.get("meta", {}))
