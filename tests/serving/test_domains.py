"""DomainRuntime: the lazily opened knowledge base is safe to open from many threads at once."""

from __future__ import annotations

import threading
from pathlib import Path


def test_kb_first_use_from_8_threads_gives_one_working_kb(tiny_domain: Path, engine):
    from serving.domains import DomainRuntime
    from vertical.core.spec import load_domain

    runtime = DomainRuntime(spec=load_domain(tiny_domain), engine=engine)  # fresh: kb() not called yet
    start = threading.Barrier(8)
    results: list = []
    errors: list[BaseException] = []

    def first_use() -> None:
        start.wait()  # all 8 reach kb() together, like eval workers and API requests do
        try:
            kb = runtime.kb()
            kb.search("how can I sleep better", k=2)  # the reported crash: None.search
            results.append(kb)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(results) == 8 and results[0] is not None
    assert all(kb is results[0] for kb in results)  # one instance, opened once
