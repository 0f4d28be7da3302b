"""One answer policy for streamed and unstreamed answers.

    from serving.answer import AnswerRequest, answer, astream, answer_many
    result = answer(runtime, AnswerRequest.ask("How can I sleep better?"))
    async for event in astream(runtime, req):   # TokenDelta(text) ... Final(answer)

Steps: safety (prepare) → decompose → retrieve (fused order) → links (adapter+rag, base+rag, base,
extractive) → citations + grounding policy (grounding_policy) → crisis resources when due.
"""

from serving.answer.links import build_messages, source_dict
from serving.answer.policy import answer, answer_many
from serving.answer.stream import astream
from serving.answer.types import Answer, AnswerRequest, Final, StreamEvent, TokenDelta

__all__ = [
    "Answer",
    "AnswerRequest",
    "Final",
    "StreamEvent",
    "TokenDelta",
    "answer",
    "answer_many",
    "astream",
    "build_messages",
    "source_dict",
]
