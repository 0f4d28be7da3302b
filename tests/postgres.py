"""A real, throw-away PostgreSQL server for tests (Debian's ``postgresql`` package), reached through pg8000.

``PostgresServer()`` runs initdb and pg_ctl in a temporary folder on a free loopback port (fsync off:
the data is thrown away), ``new_database()`` gives each test its own empty database, ``stop()`` removes
everything. PostgreSQL refuses to run as root, so as root the server runs as ``nobody`` via runuser.
``unavailable()`` says why no server can start here (the fixture skips with that reason).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from vertical.core.net import free_port

USER = "postgres"  # the superuser initdb creates (-U), trusted on loopback only


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL bin folder with initdb, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def unavailable() -> str | None:
    """Why a test PostgreSQL cannot start on this machine, or None when it can."""
    if pg_bin() is None:
        return "PostgreSQL binaries not found (apt-get install postgresql): PostgreSQL tests skipped"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: PostgreSQL cannot run as root, PostgreSQL tests skipped"
    try:
        import pg8000  # noqa: F401
    except ImportError:
        return "the pg8000 driver is not installed (pip install pg8000)"
    return None


class PostgresServer:
    def __init__(self) -> None:
        reason = unavailable()
        if reason:
            raise RuntimeError(reason)
        self.bin = pg_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="vertical-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            import pwd

            nobody = pwd.getpwnam("nobody")
            os.chown(self.dir, nobody.pw_uid, nobody.pw_gid)
        try:
            self._run("initdb", "-D", str(self.data), "-U", USER, "-A", "trust", "-E", "UTF8", "--no-sync")
            options = f"-k {self.dir} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
            self._run(
                "pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "-t", "30", "-o", options, "start"
            )
        except Exception:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "nobody", "--", *command]
        done = subprocess.run(command, cwd=self.dir, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            log = self.dir / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr[-2000:]}{tail}")

    def new_database(self) -> str:
        """A fresh empty database; returns its SQLAlchemy URL."""
        import pg8000.native

        name = f"t_{uuid.uuid4().hex[:12]}"
        conn = pg8000.native.Connection(USER, host="127.0.0.1", port=self.port, database="postgres")
        try:
            conn.run(f"CREATE DATABASE {name}")
        finally:
            conn.close()
        return f"postgresql+pg8000://{USER}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def database_url(backend: str, tmp_path: Path, server: PostgresServer | None) -> str:
    """A fresh database of ``backend`` ("sqlite" | "postgresql") for one test."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'vertical.sqlite'}"
    assert server is not None
    return server.new_database()
