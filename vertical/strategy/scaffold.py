"""`vertical init`: a new domain folder that validates and builds as it is."""

from __future__ import annotations

import json
from pathlib import Path

from vertical.core.errors import SpecError
from vertical.core.fsutil import atomic_write_text
from vertical.core.spec import SPEC_FILENAME, DomainSpec, dump_domain

_EXAMPLE_DOC = """# About this domain

Replace this file with your own documents (md, txt, html, pdf, docx, json, jsonl, csv).
Each file becomes chunks in the domain's knowledge base when you run `vertical ingest`.
"""

_EXAMPLE_CONVERSATION = {
    "conversations": [
        {"from": "human", "value": "What does this assistant help with?"},
        {"from": "gpt", "value": "It answers questions about this domain using its documents."},
    ]
}

_EXAMPLE_EVAL = {
    "id": "q001",
    "question": "What does this assistant help with?",
    "reference": "It answers questions about this domain using its documents.",
    "source": "about.md",
    "keywords": ["domain"],
    "type": "factual",
}


def scaffold_domain(directory: Path, name: str | None = None, force: bool = False) -> list[Path]:
    directory = Path(directory)
    spec_file = directory / SPEC_FILENAME
    if spec_file.exists() and not force:
        raise SpecError(f"{spec_file} already exists", hint="use --force to overwrite it, or pick another folder")
    domain_name = (name or directory.resolve().name).lower().replace(" ", "-")
    try:
        spec = DomainSpec(
            name=domain_name,
            description=f"The {domain_name} domain.",
            data={"datasets": [{"name": "conversations", "file": "data/conversations.jsonl", "format": "sharegpt"}]},
        )
    except ValueError as exc:
        raise SpecError(
            f"cannot use {domain_name!r} as a domain name: {exc}", hint="pass --name with a-z, 0-9, - or _"
        ) from exc
    files = {
        spec_file: dump_domain(spec),
        directory / "docs" / "about.md": _EXAMPLE_DOC,
        directory / "data" / "conversations.jsonl": json.dumps(_EXAMPLE_CONVERSATION) + "\n",
        directory / "eval" / "questions.jsonl": json.dumps(_EXAMPLE_EVAL) + "\n",
    }
    created = []
    for path, text in files.items():
        if path.exists() and path != spec_file:
            continue  # never overwrite the user's data files, even with --force
        atomic_write_text(path, text)
        created.append(path)
    return created
