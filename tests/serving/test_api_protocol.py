"""OpenAI protocol models and the parameter table (no model needed: engines are checked by their class)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from serving.api.messages import to_conversation
from serving.api.parameters import PARAMETERS, check_parameters
from serving.api.protocol import ChatCompletionRequest, CompletionRequest
from serving.engines.transformers_engine import TransformersEngine
from serving.engines.vllm_engine import VLLMEngine
from vertical.core.errors import RequestTooLargeError, UnsupportedParameterError


def chat(**fields) -> ChatCompletionRequest:
    return ChatCompletionRequest.model_validate(
        {"model": "d", "messages": [{"role": "user", "content": "hi"}], **fields}
    )


def test_every_role_and_text_parts_are_read():
    req = ChatCompletionRequest.model_validate(
        {
            "model": "d",
            "messages": [
                {"role": "system", "content": "Answer in one sentence."},
                {"role": "developer", "content": [{"type": "text", "text": "Be kind."}]},
                {"role": "user", "content": [{"type": "text", "text": "What is"}, {"type": "text", "text": "2+2?"}]},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "calc", "arguments": '{"x": "2+2"}'}}
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "4"},
            ],
        }
    )
    conv = to_conversation(req.messages, 10_000)
    assert conv.client_system == ["Answer in one sentence.", "Be kind."]
    assert conv.messages == [
        {"role": "user", "content": "What is\n2+2?"},
        {"role": "assistant", "content": '[called tool calc({"x": "2+2"})]'},
        {"role": "user", "content": "[tool result for c1]: 4"},
    ]


@pytest.mark.parametrize(
    "part",
    [
        {"type": "image_url", "image_url": {"url": "http://x/y.png"}},
        {"type": "input_audio", "input_audio": {"data": "", "format": "wav"}},
    ],
)
def test_non_text_parts_are_refused_by_name(part):
    with pytest.raises(ValidationError, match=f"content part type '{part['type']}' is not supported"):
        chat(messages=[{"role": "user", "content": [part]}])


@pytest.mark.parametrize(
    "bad",
    [
        {"messages": []},
        {"messages": [{"role": "wizard", "content": "hi"}]},
        {"messages": [{"role": "assistant", "content": "hi"}]},
        {"messages": [{"role": "user", "content": "  "}]},
        {"messages": [{"role": "tool", "content": "4"}]},
        {"frobnicate": True},
        {"stop": ["a", "b", "c", "d", "e"]},
        {"temperature": 3},
        {"top_logprobs": 2},
        {"response_format": {"type": "json_schema"}},
    ],
)
def test_malformed_chat_requests_fail_validation(bad):
    with pytest.raises(ValidationError):
        chat(**bad)


def test_completion_prompts():
    assert CompletionRequest(model="d", prompt=["a", "b"]).prompts == ["a", "b"]
    for prompt in ([1, 2, 3], [[1, 2]], "", []):
        with pytest.raises(ValidationError):
            CompletionRequest(model="d", prompt=prompt)


@pytest.mark.parametrize(
    "fields,param,message",
    [
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}},
            "response_format",
            "response_format json_schema is not supported by the transformers engine; use --engine vllm",
        ),
        ({"response_format": {"type": "json_object"}}, "response_format", "json_object"),
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}, "tools", "tools"),
        ({"logprobs": True}, "logprobs", "no engine of ours supports it"),
        ({"presence_penalty": 0.5}, "presence_penalty", "use --engine vllm"),
        ({"n": 9}, "n", "over this server's limit of 8"),
        ({"n": 2, "stream": True}, "n", "stream=true"),
        ({"store": True}, "store", "not supported by this server"),
    ],
)
def test_refused_parameters_name_the_parameter_and_engine(fields, param, message):
    with pytest.raises(UnsupportedParameterError, match=message.replace("+", r"\+")) as err:
        check_parameters(chat(**fields), TransformersEngine, max_n=8)
    assert err.value.param == param


def test_no_op_values_pass_everywhere_and_honoured_ones_reach_vllm():
    harmless = chat(
        top_p=1,
        presence_penalty=0,
        frequency_penalty=0,
        response_format={"type": "text"},
        logprobs=False,
        tool_choice="none",
        tools=[{"type": "function", "function": {"name": "f"}}],
        user="u1",
        stream_options={"include_usage": True},
    )
    assert check_parameters(harmless, TransformersEngine, max_n=8) == {}
    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    extra = check_parameters(chat(response_format=schema, presence_penalty=0.5, seed=3, stop="."), VLLMEngine, 8)
    assert extra == {"presence_penalty": 0.5, "response_format": schema}


def test_every_refusable_parameter_is_a_request_field():
    fields = set(ChatCompletionRequest.model_fields) | set(CompletionRequest.model_fields)
    assert {p.field for p in PARAMETERS} <= fields


def test_request_size_is_bounded_before_tokenization():
    req = chat(
        messages=[
            {"role": "user", "content": "x" * 600},
            {"role": "assistant", "content": "y" * 600},
            {"role": "user", "content": "why?"},
        ]
    )
    with pytest.raises(RequestTooLargeError, match="1204 characters, over this server's limit of 1000"):
        to_conversation(req.messages, 1000)


def test_repetition_penalty_only_at_the_policys_value():
    from serving.answer.links import REPETITION_PENALTY

    assert check_parameters(chat(repetition_penalty=REPETITION_PENALTY), TransformersEngine, 8) == {}
    with pytest.raises(UnsupportedParameterError, match="repetition_penalty other than"):
        check_parameters(chat(repetition_penalty=1.3), TransformersEngine, 8)
