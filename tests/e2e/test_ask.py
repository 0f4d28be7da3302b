"""`vertical ask` end to end: real ingest into the shared store, real retrieval, real SmolLM2 answer."""

import os
import subprocess
import sys

import pytest

from knowledge.jobs import IngestJob
from vertical.core.spec import load_domain

SLEEP_WORDS = ("sleep", "bed", "relax", "caffeine", "routine", "wind", "worry", "calm")


@pytest.mark.slow
def test_ask_answers_with_the_sleep_hygiene_source(counseling_dir, generator_name, embedder_name):
    report = IngestJob(load_domain(counseling_dir)).run()
    assert report.to_dict()["added"] >= 30

    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "vertical.cli",
            "ask",
            str(counseling_dir),
            "How can I sleep better when I'm anxious?",
            "--base",
        ],  # ingested, never built: answered from the base model over the knowledge base
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ),
    )
    assert out.returncode == 0, out.stderr
    answer, _, rest = out.stdout.partition("Sources")
    assert any(w in answer.lower() for w in SLEEP_WORDS), out.stdout
    assert "sleep-hygiene.md" in rest.split("path:")[0], out.stdout


def test_ask_on_a_crisis_message_gives_the_safety_response_without_the_model(counseling_dir):
    out = subprocess.run(
        [sys.executable, "-m", "vertical.cli", "ask", str(counseling_dir), "I want to end my life."],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )
    assert out.returncode == 0, out.stderr
    assert "Your safety" in out.stdout and "{{" not in out.stdout  # unfilled placeholders get a shipped phrase
    assert "safety" in out.stdout.lower()


def test_ask_on_a_domain_never_built_says_how_to_build_it(counseling_dir):
    out = subprocess.run(
        [sys.executable, "-m", "vertical.cli", "ask", str(counseling_dir), "How can I sleep better?"],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )
    assert out.returncode == 2, out.stdout + out.stderr
    assert "not built: run `vertical build" in " ".join(out.stderr.split()) and "--base" in out.stderr
