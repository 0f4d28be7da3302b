"""Known-item retrieval on Debian man pages: dense vs BM25 vs hybrid, nDCG@10 / recall@10 with 95% CIs.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/known_item.py [--docs 600] [--doc-chars 6000]

Corpus: section 1 and 8 man pages under ``/usr/share/man`` (English top-level folders only; the
bench needs them: ``apt-get install man-db manpages`` on a minimal image). Each page's NAME line
(``ls \\- list directory contents``) gives the query, "list directory contents"; the NAME section is
removed from the document, and pages whose description appears verbatim in the rest are dropped,
so a query is never a copy of its document's text. One relevant document per query. Pages are
picked by a hash of their name (stable across runs and machines with the same pages) and cut to
``--doc-chars`` characters so the KB embeds in about a minute on 2 cores.

Arms: dense, BM25, hybrid (the shipped distribution-based score fusion) and hybrid with the previous
weighted RRF, all on the same KB. Queries are split by a hash of the page name into a tuning half and
a reported half: any fusion setting is chosen on the tuning half, the numbers reported are the other
half's (plus the paired interval of hybrid minus the best single arm). The KB lives in
``bench/out/known-item`` (gitignored), so a rerun skips embedding. Writes bench/out/known_item.json.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "bench" / "out"
MAN_ROOT = Path("/usr/share/man")
# the Google Cloud SDK's 16k generated pages (present here, rare elsewhere) would swamp the corpus
SKIP_PREFIXES = ("gcloud",)
_NAME_LINE = re.compile(r"^(?P<names>.+?)\s+\\?[-\u2013]\s+(?P<desc>.+)$")
_FONT = re.compile(r"\\f(\[[^\]]*\]|\(..|.)")
_SPECIAL = re.compile(r"\\\(..|\\\[[^\]]*\]|\\[*n]\(?..|\\[&|^%:]|\\s[-+]?\d")
_MACROS = "B|I|BI|BR|IB|IR|RB|RI|SB|SM|SH|SS|TP|IP|HP|PP|LP|P|TH|UR|UE|MT|ME|OP|SY|YS|Nm|Nd"
_MACRO = re.compile(rf"^[.']({_MACROS})\b\s*(.*)$")


def roff_to_text(raw: str) -> list[tuple[str, str]]:
    """[(section title, text)] from man(7) roff: macros dropped, font escapes removed (a reader's view)."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in raw.splitlines():
        if line.startswith(('.\\"', "'\\\"", ".\\}", ".ig")):
            continue
        macro = _MACRO.match(line)
        if macro and macro.group(1) == "TH":
            continue
        if macro and macro.group(1) in ("SH", "SS"):
            sections.append((_clean(macro.group(2)).strip('"').upper(), []))
            continue
        if macro:
            line = macro.group(2)
        elif line.startswith((".", "'")):
            continue
        text = _clean(line)
        if text.strip():
            sections[-1][1].append(text)
    return [(title, "\n".join(lines)) for title, lines in sections]


def _clean(line: str) -> str:
    line = _FONT.sub("", line)
    line = line.replace("\\-", "-").replace("\\e", "\\").replace("\\ ", " ").replace('\\"', "")
    return _SPECIAL.sub("", line).replace("\\", "")


def man_pages(limit: int, doc_chars: int) -> list[dict]:
    """Pages with a NAME description as query and the rest as the document, picked by name hash."""
    seen_desc: set[str] = set()
    pages = []
    files = [p for sec in ("man1", "man8") for p in (MAN_ROOT / sec).glob("*.gz") if not p.is_symlink()]
    files = [p for p in files if not p.name.startswith(SKIP_PREFIXES)]
    for path in sorted(files, key=lambda p: hashlib.sha1(p.name.encode()).hexdigest()):
        try:
            raw = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        except (OSError, EOFError):
            continue
        if raw.startswith(".so "):  # an alias page
            continue
        sections = roff_to_text(raw)
        name = next((t for s, t in sections if s == "NAME"), "")
        match = _NAME_LINE.match(" ".join(name.split()))
        body = "\n\n".join(f"{s}\n{t}" if s else t for s, t in sections if s != "NAME" and t.strip())
        if not match or len(body) < 1500:
            continue
        desc = match.group("desc").strip().rstrip(".")
        key = desc.lower()
        if len(desc.split()) < 3 or key in seen_desc or key in " ".join(body.lower().split()):
            continue
        seen_desc.add(key)
        stem = path.name[: -len(".gz")]
        pages.append({"source": f"{stem}.txt", "query": desc, "text": body[:doc_chars]})
        if len(pages) >= limit:
            break
    return pages


def write_domain(folder: Path, pages: list[dict], embedder: str) -> None:
    """The corpus as a domain folder; files are rewritten only when their text changed (rerun = no-op)."""
    docs = folder / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    wanted = {p["source"] for p in pages}
    for old in docs.iterdir():
        if old.name not in wanted:
            old.unlink()
    for p in pages:
        path = docs / p["source"]
        if not path.exists() or path.read_text(encoding="utf-8") != p["text"]:
            path.write_text(p["text"], encoding="utf-8")
    yaml = (
        "name: known-item\ndescription: Debian man pages\nembedder: " + embedder + "\nstrategy: rag\n"
        "knowledge:\n  sources: [docs]\n  chunk_size: 200\n  chunk_overlap: 30\n"
    )
    (folder / "domain.yaml").write_text(yaml, encoding="utf-8")


def ranked_sources(hits: list) -> list[str]:
    return list(dict.fromkeys(h.source for h in hits))


def scores(ranked: list[str], relevant: str, k: int = 10) -> tuple[float, float]:
    """(nDCG@k, recall@k) with one relevant document."""
    rank = ranked.index(relevant) if relevant in ranked[:k] else None
    return (1.0 / math.log2(rank + 2), 1.0) if rank is not None else (0.0, 0.0)


def run_arm(spec, pages: list[dict], dense: float, bm25: float, rrf: bool = False) -> dict[str, list[float]]:
    """One arm's per-query scores; ``rrf``: the previous fusion (weighted RRF) as the side-by-side baseline."""
    from knowledge.store import KnowledgeBase

    arm = spec.model_copy(deep=True)
    arm.root = spec.root
    arm.knowledge.retrieval.dense_weight, arm.knowledge.retrieval.bm25_weight = dense, bm25
    arm.knowledge.retrieval.fusion = "rrf" if rrf else "score"
    kb = KnowledgeBase.for_domain(arm)
    ndcg, recall = [], []
    for p in pages:
        n, r = scores(ranked_sources(kb.search(p["query"], k=40)), p["source"])
        ndcg.append(n)
        recall.append(r)
    kb.knowledge = spec.knowledge
    return {"ndcg@10": ndcg, "recall@10": recall}


def summarise(values: dict[str, list[float]]) -> dict[str, dict]:
    from vertical.strategy.evaluation.stats import bootstrap_ci

    return {m: bootstrap_ci(v).to_dict() for m, v in values.items()}


def is_tuning(page: dict) -> bool:
    return int(hashlib.sha1(("split:" + page["source"]).encode()).hexdigest(), 16) % 2 == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=600)
    parser.add_argument("--doc-chars", type=int, default=6000)
    parser.add_argument("--embedder", default="all-minilm-l6-v2")
    args = parser.parse_args()
    if not (MAN_ROOT / "man1").is_dir():
        sys.exit(f"no man pages under {MAN_ROOT}: install man-db + manpages (this bench needs them)")
    from knowledge.jobs import IngestJob
    from vertical.core.settings import reset_settings
    from vertical.core.spec import load_domain
    from vertical.strategy.evaluation.stats import paired_bootstrap_ci

    pages = man_pages(args.docs, args.doc_chars)
    folder = OUT / "known-item"
    write_domain(folder / "domain", pages, args.embedder)
    os.environ["VERTICAL_WORKSPACE"] = str(folder / "workspace")
    reset_settings()
    spec = load_domain(folder / "domain")
    started = time.perf_counter()
    report = IngestJob(spec, sync=True).run()
    ingest_s = time.perf_counter() - started
    tuning = [p for p in pages if is_tuning(p)]
    reported = [p for p in pages if not is_tuning(p)]
    arms = {"dense": (1.0, 0.0, False), "bm25": (0.0, 1.0, False), "hybrid": (1.0, 1.0, False)}
    arms["hybrid_rrf"] = (1.0, 1.0, True)
    result: dict = {
        "man_pages_on_machine": sum(
            1 for s in ("man1", "man8") for p in (MAN_ROOT / s).glob("*.gz") if not p.name.startswith(SKIP_PREFIXES)
        ),
        "documents": len(pages),
        "chunks": report.chunks_total,
        "ingest_s": round(ingest_s, 1),
        "queries": {"tuning": len(tuning), "reported": len(reported)},
        "load_average": os.getloadavg(),
        "tuning": {},
        "reported": {},
    }
    per_query: dict[str, dict[str, list[float]]] = {}
    for name, (dw, bw, rrf) in arms.items():
        result["tuning"][name] = summarise(run_arm(spec, tuning, dw, bw, rrf))
        per_query[name] = run_arm(spec, reported, dw, bw, rrf)
        result["reported"][name] = summarise(per_query[name])
    best_single = max(("dense", "bm25"), key=lambda a: sum(per_query[a]["ndcg@10"]))
    result["best_single_arm"] = best_single
    result["hybrid_minus_best_single"] = {
        name: paired_bootstrap_ci(per_query[name]["ndcg@10"], per_query[best_single]["ndcg@10"]).to_dict()
        for name in arms
        if name not in ("dense", "bm25")
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "known_item.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
