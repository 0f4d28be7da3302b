"""PLACEHOLDER answer loop for the walking skeleton.

Naive in-memory keyword retrieval over the domain's text files + the local generator. The knowledge
issue replaces retrieval with the shared store (hybrid BM25 + dense), and the serving issue
replaces this module with the answer chain; `vertical ask` then calls that chain instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from vertical.runtime import load_generator, load_tokenizer
from vertical.spec import load_domain

_WORD = re.compile(r"[a-z0-9']+")
_STOP = set("a an the and or of to in on for is are am i my me you your it how what when can do does with be at".split())


@dataclass
class Source:
    source: str
    heading: str
    text: str


@dataclass
class QuickAnswer:
    answer: str
    sources: list[Source] = field(default_factory=list)
    trace: str = ""


def _paragraphs(path: Path) -> list[tuple[str, str]]:
    text = path.read_text(encoding="utf-8", errors="replace")
    heading, out = path.stem, []
    for block in re.split(r"\n\s*\n", text):
        block = re.sub(r"<[^>]+>", " ", block).strip()
        if block.startswith("#"):
            heading = block.lstrip("#").split("\n")[0].strip()
        if len(block) > 40:
            out.append((heading, block))
    return out


def answer_question(domain: str | Path, question: str, k: int | None = None) -> QuickAnswer:
    spec = load_domain(domain)
    k = k or spec.knowledge.retrieval.top_k
    terms = {w for w in _WORD.findall(question.lower()) if w not in _STOP}
    scored = []
    for root in spec.source_paths:
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() not in {".md", ".txt", ".html"}:
                continue
            for heading, para in _paragraphs(path):
                words = set(_WORD.findall(para.lower()))
                scored.append((len(terms & words) / (1 + len(words) ** 0.5), path.name, heading, para))
    top = sorted(scored, key=lambda s: -s[0])[:k]
    sources = [Source(name, heading, para) for _, name, heading, para in top]
    context = "\n\n".join(f"[{i}] {s.text}" for i, s in enumerate(sources, 1))
    messages = [
        {"role": "system", "content": spec.system_prompt},
        {"role": "user", "content": f"Sources:\n{context}\n\nQuestion: {question}"},
    ]
    tokenizer = load_tokenizer(spec.base_model)
    model = load_generator(spec.base_model)
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    output = model.generate(**inputs.to(model.device), max_new_tokens=spec.serving.max_new_tokens, do_sample=False,
                            repetition_penalty=1.1)
    text = tokenizer.decode(output[0][inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()
    return QuickAnswer(answer=text, sources=sources, trace="placeholder: keyword retrieval + local generator")
