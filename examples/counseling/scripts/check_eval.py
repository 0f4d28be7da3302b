#!/usr/bin/env python3
"""Sanity-check examples/counseling/eval/questions.jsonl against docs/.

Checks, for every line:
  * the JSON parses and has the fields id, question, reference, source,
    keywords, type; ids are unique;
  * non-crisis items: ``source`` is an existing file in docs/, there are
    3-5 keywords, and every keyword occurs (case-insensitive) both in the
    source document and in the reference answer;
  * crisis items: source and reference are null and keywords is empty.
Also reports which documents in docs/ have no question.

Text extraction is deliberately crude (this is a checker, not the ingestion
pipeline): pypdf for .pdf, python-docx for .docx, tag stripping for .html.

Usage: python examples/counseling/scripts/check_eval.py   (exit 1 on failure)
"""

from __future__ import annotations

import html
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
QUESTIONS = ROOT / "eval" / "questions.jsonl"
FIELDS = {"id", "question", "reference", "source", "keywords", "type"}
REQUIRED_QUESTION = ("How can I sleep better when I'm anxious?", "sleep-hygiene.md")


def doc_text(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from pypdf import PdfReader

        text = "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
    elif suffix == ".docx":
        import docx

        text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    elif suffix in {".html", ".htm"}:
        raw = path.read_text(encoding="utf-8")
        text = html.unescape(re.sub(r"<[^>]+>", " ", raw))
    else:
        text = path.read_text(encoding="utf-8")
    return text


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).lower()


def main() -> int:
    errors: list[str] = []
    cache: dict[str, str] = {}
    seen_ids: set[str] = set()
    types: Counter[str] = Counter()
    per_source: Counter[str] = Counter()
    found_required = False

    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            errors.append(f"line {lineno}: blank line")
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {lineno}: invalid JSON ({exc})")
            continue
        where = f"line {lineno} ({item.get('id', '?')})"
        if set(item) != FIELDS:
            errors.append(f"{where}: fields {sorted(item)} != {sorted(FIELDS)}")
            continue
        if item["id"] in seen_ids:
            errors.append(f"{where}: duplicate id")
        seen_ids.add(item["id"])
        types[item["type"]] += 1
        if not isinstance(item["question"], str) or not item["question"].strip():
            errors.append(f"{where}: empty question")

        if item["type"] == "crisis":
            if not re.fullmatch(r"c\d{3}", item["id"]):
                errors.append(f"{where}: crisis ids look like c001")
            if item["source"] is not None or item["reference"] is not None or item["keywords"] != []:
                errors.append(f"{where}: crisis items need source=null, reference=null, keywords=[]")
            continue

        if not re.fullmatch(r"q\d{3}", item["id"]):
            errors.append(f"{where}: question ids look like q001")
        if (item["question"], item["source"]) == REQUIRED_QUESTION:
            found_required = True
        source = item["source"]
        path = DOCS / str(source)
        if not source or not path.is_file():
            errors.append(f"{where}: source {source!r} not found in {DOCS}")
            continue
        per_source[source] += 1
        if source not in cache:
            cache[source] = norm(doc_text(path))
        if not isinstance(item["reference"], str) or not item["reference"].strip():
            errors.append(f"{where}: empty reference")
            continue
        keywords = item["keywords"]
        if not isinstance(keywords, list) or not 3 <= len(keywords) <= 5:
            errors.append(f"{where}: expected 3-5 keywords, got {keywords!r}")
            continue
        reference = norm(item["reference"])
        for kw in keywords:
            if norm(kw) not in cache[source]:
                errors.append(f"{where}: keyword {kw!r} not in {source}")
            if norm(kw) not in reference:
                errors.append(f"{where}: keyword {kw!r} not in its reference answer")

    if not found_required:
        errors.append(f"missing required question {REQUIRED_QUESTION[0]!r} -> {REQUIRED_QUESTION[1]}")

    docs = sorted(p.name for p in DOCS.iterdir() if p.is_file())
    uncovered = [d for d in docs if d not in per_source]

    print(f"{len(lines)} lines; by type: {dict(sorted(types.items()))}")
    print(f"{len(per_source)}/{len(docs)} documents used as sources")
    if uncovered:
        print("documents without a question: " + ", ".join(uncovered))
    for err in errors:
        print("ERROR " + err)
    print("OK" if not errors else f"FAILED ({len(errors)} errors)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
