"""Model ids: ``<domain>`` (its built assistant: the adapter when it has one), ``<domain>:<adapter>`` (that
adapter) and ``<domain>:base`` (the base model, no adapter). Listing, lookup and resolution to a runtime."""

from __future__ import annotations

from fastapi import Request

from serving.api.auth import allowed_domains, check_domain
from serving.api.protocol import ModelCard, ModelList
from serving.api.state import AppState
from serving.domains import DomainRuntime, adapter_label
from vertical.core.errors import ModelNotServedError


class OpenAIServingModels:
    def __init__(self, state: AppState) -> None:
        self.state = state

    def cards(self, runtime: DomainRuntime) -> list[ModelCard]:
        root = runtime.spec.base_model
        cards = [ModelCard(id=runtime.name, root=root)]
        if runtime.adapter:
            cards += [
                ModelCard(id=f"{runtime.name}:{adapter_label(runtime.adapter)}", root=root, parent=runtime.name),
                ModelCard(id=f"{runtime.name}:base", root=root, parent=runtime.name),
            ]
        return cards

    def list(self, request: Request) -> ModelList:
        allowed = allowed_domains(request)
        return ModelList(
            data=[
                card
                for name, runtime in sorted(self.state.runtimes.items())
                if "*" in allowed or name in allowed
                for card in self.cards(runtime)
            ]
        )

    def get(self, request: Request, model: str) -> ModelCard:
        runtime, _ = self.resolve(request, model)
        return ModelCard(id=model, root=runtime.spec.base_model, parent=runtime.name if model != runtime.name else None)

    def resolve(self, request: Request, model: str) -> tuple[DomainRuntime, bool]:
        """(runtime, use_adapter) for an OpenAI ``model`` string; 401/403 before 404, as for every route."""
        domain, _, variant = model.partition(":")
        check_domain(request, domain)
        if domain not in self.state.runtimes:
            raise ModelNotServedError(
                f"model {model!r} is not served here", hint=f"served models: {', '.join(self._ids()) or 'none'}"
            )
        runtime = self.state.runtimes[domain]
        if not variant:
            return runtime, True
        if variant == "base":  # also without an adapter: then it is the same model as <domain>
            return runtime, False
        if runtime.adapter and variant == adapter_label(runtime.adapter):
            return runtime, True
        raise ModelNotServedError(
            f"model {model!r} is not served here",
            hint=f"served models of {domain}: {', '.join(c.id for c in self.cards(runtime))}",
        )

    def _ids(self) -> list[str]:
        return [card.id for runtime in self.state.runtimes.values() for card in self.cards(runtime)]
