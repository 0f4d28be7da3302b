"""Reading and writing every supported format, malformed records, LLaMA-Factory dataset_info.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune.data.formats import FORMATS, read_dataset, read_file, write_dataset
from finetune.data.llamafactory import export_llamafactory, import_dataset_info
from vertical.core.errors import DataFormatError

COUNSELING_FILES = [
    ("data/conversations.jsonl", "sharegpt", {"user_tag": "human", "assistant_tag": "gpt", "system_tag": "system"}),
    ("data/qa.jsonl", "alpaca", {}),
]


def _turns(convs):
    return [[(t.role, t.content, t.tool_call) for t in c.turns] for c in convs]


@pytest.mark.parametrize(
    "name,fmt",
    [("sharegpt.jsonl", "sharegpt"), ("alpaca.json", "alpaca"), ("openai.jsonl", "openai"), ("text.jsonl", "text")],
)
def test_round_trip_each_format(fixtures_dir: Path, tmp_path: Path, name: str, fmt: str) -> None:
    convs, problems = read_file(fixtures_dir / name, fmt)
    assert convs and not problems
    out = write_dataset(convs, tmp_path / f"out.{fmt}.jsonl", fmt)
    again, problems = read_file(out, fmt)
    assert not problems
    assert _turns(again) == _turns(convs)


def test_sharegpt_tool_and_system_turns_are_kept(fixtures_dir: Path) -> None:
    convs, _ = read_file(fixtures_dir / "sharegpt.jsonl", "sharegpt")
    assert convs[0].system == "You are a supportive listener."
    roles = [t.role for t in convs[1].turns]
    assert roles == ["user", "assistant", "tool", "assistant"] and convs[1].turns[1].tool_call


def test_alpaca_history_system_and_input(fixtures_dir: Path) -> None:
    convs, _ = read_file(fixtures_dir / "alpaca.json", "alpaca")
    second = convs[1]
    assert [t.role for t in second.turns] == ["system", "user", "assistant", "user", "assistant"]
    assert second.turns[3].content == "Summarise this worry.\nI keep thinking I will fail everything."
    assert second.source.endswith("alpaca.json:7")  # json arrays still report the record's line


@pytest.mark.parametrize("target", ["sharegpt", "openai"])
def test_convert_between_formats_keeps_tool_calls(fixtures_dir: Path, tmp_path: Path, target: str) -> None:
    convs, _ = read_file(fixtures_dir / "openai.jsonl", "openai")
    path = write_dataset(convs, tmp_path / "x.jsonl", target, tags={"user_tag": "user", "assistant_tag": "bot"})
    again, problems = read_file(path, target, tags={"user_tag": "user", "assistant_tag": "bot"})
    assert not problems and _turns(again) == _turns(convs)


def test_alpaca_cannot_hold_tool_turns(fixtures_dir: Path, tmp_path: Path) -> None:
    convs, _ = read_file(fixtures_dir / "openai.jsonl", "openai")
    with pytest.raises(DataFormatError, match="alpaca cannot hold tool turns"):
        write_dataset(convs, tmp_path / "x.jsonl", "alpaca")
    assert not (tmp_path / "x.jsonl").exists()  # nothing half-written


def test_malformed_records_reported_with_file_line(fixtures_dir: Path) -> None:
    convs, problems = read_file(fixtures_dir / "malformed.jsonl", "sharegpt")
    assert [c.turns[-1].content for c in convs] == ["fine", "an answer"]
    found = {p.source.rsplit(":", 1)[1]: p.reason for p in problems}
    assert found == {
        "2": "bad JSON",
        "3": "non-alternating turns",
        "4": "missing role",
        "5": "empty content",
        "7": "no assistant answer at the end",
    }
    assert all(p.source.startswith(str(fixtures_dir / "malformed.jsonl")) for p in problems)


def test_strict_mode_fails_listing_the_first_problems(make_domain, fixtures_dir: Path) -> None:
    spec = make_domain(
        [{"name": "bad", "file": "data/bad.jsonl", "format": "sharegpt"}],
        {"data/bad.jsonl": fixtures_dir / "malformed.jsonl"},
        strict=True,
    )
    with pytest.raises(DataFormatError) as err:
        read_dataset(spec, spec.data.datasets[0])
    assert "5 malformed record(s)" in err.value.message and "bad.jsonl:2: bad JSON" in err.value.message
    spec.data.strict = False
    convs, problems = read_dataset(spec, spec.data.datasets[0])
    assert len(convs) == 2 and len(problems) == 5


def test_role_tags_from_dataset_spec(make_domain) -> None:
    records = [
        {"dialog": [{"speaker": "client", "text": "hello"}, {"speaker": "counsellor", "text": "hi, how are you?"}]}
    ]
    spec = make_domain(
        [
            {
                "name": "c",
                "file": "data/c.jsonl",
                "format": "sharegpt",
                "columns": {"messages": "dialog"},
                "tags": {
                    "role_tag": "speaker",
                    "content_tag": "text",
                    "user_tag": "client",
                    "assistant_tag": "counsellor",
                },
            }
        ],
        {"data/c.jsonl": records},
    )
    convs, problems = read_dataset(spec, spec.data.datasets[0])
    assert not problems and [(t.role, t.content) for t in convs[0].turns] == [
        ("user", "hello"),
        ("assistant", "hi, how are you?"),
    ]


def test_missing_file_is_a_clear_error(make_domain) -> None:
    spec = make_domain([{"name": "c", "file": "data/nope.jsonl", "format": "sharegpt"}])
    with pytest.raises(DataFormatError, match="not found"):
        read_dataset(spec, spec.data.datasets[0])


def test_llamafactory_export_then_import(make_domain, fixtures_dir: Path, tmp_path: Path) -> None:
    spec = make_domain(
        [
            {"name": "sg", "file": "data/sg.jsonl", "format": "sharegpt"},
            {"name": "qa", "file": "data/qa.json", "format": "alpaca"},
            {"name": "oa", "file": "data/oa.jsonl", "format": "openai"},
            {"name": "tx", "file": "data/tx.jsonl", "format": "text"},
        ],
        {
            "data/sg.jsonl": fixtures_dir / "sharegpt.jsonl",
            "data/qa.json": fixtures_dir / "alpaca.json",
            "data/oa.jsonl": fixtures_dir / "openai.jsonl",
            "data/tx.jsonl": fixtures_dir / "text.jsonl",
        },
    )
    info_path, problems = export_llamafactory(spec, tmp_path / "lf")
    info = json.loads(info_path.read_text())
    assert info["oa"]["formatting"] == "sharegpt" and info["oa"]["tags"]["role_tag"] == "role"
    assert info["tx"]["columns"] == {"prompt": "text"}
    imported = {d["name"]: d for d in import_dataset_info(info_path)}
    assert {n: d["format"] for n, d in imported.items()} == {
        "sg": "sharegpt",
        "qa": "alpaca",
        "oa": "openai",
        "tx": "text",
    }
    for ds in spec.data.datasets:
        original, _ = read_dataset(spec, ds)
        d = imported[ds.name]
        back, probs = read_file(d["file"], d["format"], d["columns"], d["tags"])
        assert not probs and _turns(back) == _turns(original)


@pytest.mark.parametrize("rel,fmt,tags", COUNSELING_FILES)
def test_counseling_files_round_trip(counseling_dir: Path, tmp_path: Path, rel: str, fmt: str, tags: dict) -> None:
    path = counseling_dir / rel
    convs, problems = read_file(path, fmt, tags=tags)
    assert len(convs) >= 10 and not problems, problems[:3]
    for target in FORMATS[:3]:
        out = write_dataset(convs, tmp_path / f"{target}.jsonl", target)
        again, _ = read_file(out, target)
        assert _turns(again) == _turns(convs)
