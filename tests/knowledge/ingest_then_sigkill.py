"""Helper for test_kb_resume: run an ingest and SIGKILL this process at the N-th file commit.

Groups are cut to one file each so "the N-th commit" is the N-th file (a real job commits a
group of files per transaction; the crash protocol is the same).

usage: python ingest_then_sigkill.py DOMAIN_DIR N inside|after
  inside: chunks of file N are in Chroma, its record is not (killed mid-commit)
  after:  file N is fully committed, the next one never starts
"""

import os
import signal
import sys

import knowledge.jobs
from knowledge.jobs import IngestJob
from knowledge.record_manager import RecordStore
from vertical.core.spec import load_domain

domain, kill_at, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
original = RecordStore.commit_files
calls = {"n": 0}


def commit_then_maybe_die(self, records):
    calls["n"] += 1
    if calls["n"] == kill_at and mode == "inside":
        os.kill(os.getpid(), signal.SIGKILL)
    original(self, records)
    if calls["n"] == kill_at and mode == "after":
        os.kill(os.getpid(), signal.SIGKILL)


knowledge.jobs.EMBED_GROUP_CHUNKS = 1
RecordStore.commit_files = commit_then_maybe_die
IngestJob(load_domain(domain)).run()
print("finished without being killed")
