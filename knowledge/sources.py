"""Find the files an ingest covers and name each one by its path inside its knowledge source folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vertical.core.errors import IngestError
from vertical.core.settings import get_settings
from vertical.core.spec import DomainSpec

UPLOADS = "uploads"  # files uploaded through the API: <workspace>/<domain>/uploads/, sources "uploads/<name>"


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute
    source: str  # stable name in the KB, e.g. "sleep-hygiene.md"


def _visible(path: Path, root: Path) -> bool:
    """Skip hidden files/folders (.git, .DS_Store, editor swap files) under ``root``."""
    return not any(part.startswith(".") or part.endswith("~") for part in path.relative_to(root).parts)


def uploads_dir(spec: DomainSpec) -> Path:
    """Where uploads live: in the workspace, never in the (curated, versioned) domain folder."""
    return (get_settings().domain_dir(spec.name) / UPLOADS).resolve()


def document_roots(spec: DomainSpec) -> list[Path]:
    """Every folder or file the domain's documents come from: the configured sources, then the uploads
    folder when it exists. The planner, the CPT corpus and the build's step hashes read this, so an
    uploaded document counts like a curated one."""
    uploads = uploads_dir(spec)
    return [*spec.source_paths, *([uploads] if uploads.is_dir() else [])]


def _source_roots(spec: DomainSpec) -> list[tuple[Path, str]]:
    """(folder, prefix) per source folder: uploads first (always "uploads/"), then the configured
    folders, with a prefix only when there are several (curated names stay as they were)."""
    roots = [p.resolve() for p in spec.source_paths]
    return [(uploads_dir(spec), f"{UPLOADS}/"), *((r, f"{r.name}/" if len(roots) > 1 else "") for r in roots)]


def source_name(path: Path, spec: DomainSpec, given_root: Path | None = None) -> str:
    path = path.resolve()
    for root, prefix in _source_roots(spec):
        if path.is_relative_to(root) and path != root:
            return prefix + path.relative_to(root).as_posix()
    if given_root is not None and path.is_relative_to(given_root) and path != given_root:
        return path.relative_to(given_root).as_posix()
    return path.name


def discover(spec: DomainSpec, paths: list[Path] | None) -> tuple[list[SourceFile], list[Path]]:
    """Files to ingest (sorted, unique by source name) and the scanned roots (for --sync scope)."""
    targets = [Path(p).resolve() for p in (paths or document_roots(spec))]
    files: dict[str, SourceFile] = {}
    for target in targets:
        if not target.exists():
            hint = "fix knowledge.sources in domain.yaml" if not paths else "check the path"
            raise IngestError(f"knowledge source {target} does not exist", hint=hint)
        if target.is_dir():
            found = sorted(p for p in target.rglob("*") if p.is_file() and _visible(p, target))
            for p in found:
                name = source_name(p, spec, given_root=target)
                files.setdefault(name, SourceFile(p, name))
        else:
            name = source_name(target, spec)
            files.setdefault(name, SourceFile(target, name))
    return sorted(files.values(), key=lambda f: f.source), targets


def in_scope(origin: str, roots: list[Path]) -> bool:
    """Whether a recorded file lies under one of the roots this run scanned (for --sync)."""
    path = Path(origin)
    return any(path == root or path.is_relative_to(root) for root in roots)
