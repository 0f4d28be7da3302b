"""OpenAI chat messages → the answer policy's conversation (after the request size check).

- ``system`` and ``developer`` messages (anywhere in the list) become ``client_system``: the policy adds
  them after the domain's system prompt as extra instructions; they never replace it, and safety has
  already looked at the conversation before they are read. The trace says how many were added.
- Content given as a list of text parts is joined with newlines (other part types are a 400 in protocol).
- An assistant turn with ``tool_calls`` and the ``tool`` results that follow are kept as text
  ("[called tool f({...})]", "[tool result for call_1]: ..."), so a conversation replayed from a
  tool-using client loses nothing; our engines do not call tools themselves (``tools`` is refused).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from serving.api.protocol import AssistantMessage, SystemMessage, ToolMessage, content_text
from vertical.core.errors import RequestTooLargeError


@dataclass
class Conversation:
    messages: list[dict[str, Any]] = field(default_factory=list)  # user/assistant turns, the question last
    client_system: list[str] = field(default_factory=list)


def check_size(texts: list[str], limit: int) -> None:
    """413 before any tokenization: the characters of all messages together are bounded."""
    total = sum(len(t) for t in texts)
    if total > limit:
        raise RequestTooLargeError(
            f"the messages hold {total} characters, over this server's limit of {limit}",
            hint="send a shorter conversation or raise VERTICAL_MAX_REQUEST_CHARS",
            param="messages",
        )


def _assistant_text(message: AssistantMessage) -> str:
    parts = [content_text(message.content)] if message.content else []
    parts += [f"[called tool {c.function.name}({c.function.arguments})]" for c in message.tool_calls or []]
    return "\n".join(parts) or (message.refusal or "")


def to_conversation(messages: list, max_chars: int) -> Conversation:
    check_size([content_text(getattr(m, "content", None)) for m in messages], max_chars)
    conv = Conversation()
    for message in messages:
        if isinstance(message, SystemMessage):
            text = content_text(message.content).strip()
            if text:
                conv.client_system.append(text)
        elif isinstance(message, AssistantMessage):
            conv.messages.append({"role": "assistant", "content": _assistant_text(message)})
        elif isinstance(message, ToolMessage):
            result = content_text(message.content)
            conv.messages.append({"role": "user", "content": f"[tool result for {message.tool_call_id}]: {result}"})
        else:
            conv.messages.append({"role": "user", "content": content_text(message.content)})
    return conv


def prompt_conversation(prompt: str, max_chars: int) -> Conversation:
    """A text-completion prompt goes through the policy as a single user message."""
    check_size([prompt], max_chars)
    return Conversation(messages=[{"role": "user", "content": prompt}])
