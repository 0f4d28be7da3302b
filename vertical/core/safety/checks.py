"""Deployment checks on a domain's safety setup, for `vertical doctor <domain>`, `build` and `serve`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from vertical.core.errors import SpecError
from vertical.core.safety.responses import unfilled_placeholders
from vertical.core.safety.rules import shipped_languages

if TYPE_CHECKING:
    from vertical.core.spec import DomainSpec


def placeholder_warning(spec: DomainSpec) -> str | None:
    """One line naming the unfilled ``{{…}}`` in the domain's safety texts, or None when all are filled."""
    names = unfilled_placeholders(spec)
    if not names:
        return None
    listed = ", ".join("{{" + n + "}}" for n in names)
    return (
        f"safety: {listed} unfilled in {spec.name}'s safety texts; people in crisis would see a generic "
        f"'local crisis line' instead. Set safety.resources.{names[0]} (and the others) in domain.yaml"
    )


def require_filled_placeholders(spec: DomainSpec) -> None:
    """Raise before serving beyond loopback while the crisis response lacks its phone numbers."""
    names = unfilled_placeholders(spec)
    if names:
        raise SpecError(
            f"refusing to serve {spec.name} publicly: safety placeholders {', '.join(names)} are unfilled",
            hint=f"set them in {spec.root / 'domain.yaml'} under safety.resources "
            f'(e.g. {names[0]}: "988 Suicide & Crisis Lifeline"), or serve on 127.0.0.1',
        )


def safety_checks(spec: DomainSpec) -> list[tuple[str, bool, str, bool]]:
    """(name, ok, detail, required) rows; all are warnings except a broken classifier folder."""
    rows: list[tuple[str, bool, str, bool]] = []
    if not spec.safety.enabled:
        return [("safety", False, "disabled (safety.enabled: false): crisis messages reach the model", False)]
    warning = placeholder_warning(spec)
    rows.append(("safety placeholders", warning is None, warning or "all {{…}} in the safety texts are filled", False))
    langs = sorted(shipped_languages())
    own = sorted(spec.safety.responses) or (["(legacy response)"] if spec.safety.response else [])
    rows.append(
        (
            "safety rules",
            True,
            f"shipped rules for {', '.join(langs)}; domain responses: "
            f"{', '.join(own) or 'none (shipped texts are used)'}",
            False,
        )
    )
    cfg = spec.safety.classifier
    if cfg is not None:
        if cfg.kind == "hf":
            folder = Path(cfg.model) if Path(cfg.model).is_absolute() else spec.path(cfg.model)
            ok = (folder / "config.json").is_file()
            rows.append(
                ("safety classifier", ok, f"hf folder {folder}" + ("" if ok else ": no config.json there"), True)
            )
        else:
            rows.append(
                (
                    "safety classifier",
                    True,
                    f"{cfg.kind} endpoint {cfg.base_url} (checked at run time; rules stay in charge when it fails)",
                    False,
                )
            )
    return rows
