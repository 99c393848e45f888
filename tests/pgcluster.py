"""A throwaway PostgreSQL cluster for the test session, started from initdb/pg_ctl on PATH.

PostgreSQL refuses to run as root; when the tests run as root the cluster
runs as the `postgres` account in a directory it owns.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Cluster:
    directory: Path
    port: int
    user: str = "postgres"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://{self.user}@127.0.0.1:{self.port}/{database}"

    def psql(self, *statements: str, database: str = "postgres") -> str:
        """Run each statement on its own (CREATE DATABASE refuses a transaction), in one psql."""
        done = subprocess.run(self._psql(statements, database), check=True, capture_output=True,
                              text=True)
        return done.stdout

    def _psql(self, statements: tuple[str, ...], database: str) -> list[str]:
        commands = [part for sql in statements for part in ("-c", sql)]
        return ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", database,
                "-v", "ON_ERROR_STOP=1", "-At", *commands]


def unavailable_reason() -> str | None:
    for tool in ("initdb", "pg_ctl", "psql"):
        if shutil.which(tool) is None:
            return f"{tool} is not on PATH (install PostgreSQL's server package)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root, and runuser is missing to start PostgreSQL as another account"
    return None


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _memory_backed() -> str | None:
    """/dev/shm where there is one: each test's CREATE DATABASE makes hundreds of files, and
    on ext4 finding free inodes among recently deleted ones costs the backend ~0.4 s of CPU
    per copy; in memory it costs nearly nothing (and the cluster is thrown away anyway)."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def start(*, autovacuum: bool = False) -> Cluster:
    """A throwaway cluster. `autovacuum` on for a benchmark: it is on wherever the service
    runs, and without it a table that grows never has its statistics brought up to date."""
    directory = Path(tempfile.mkdtemp(prefix="breach-pg-", dir=_memory_backed()))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    data, port = directory / "data", _free_port()
    subprocess.run(_as_owner(["initdb", "-D", str(data), "-A", "trust", "-U", "postgres",
                              "-E", "UTF8", "--no-sync", "--locale=C"]),
                   check=True, capture_output=True)
    # Durability is worthless in a throwaway cluster; autovacuum would only wake up to visit
    # databases that live for one test (and CREATE DATABASE waits for it to leave a template).
    options = (f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
               f"-c autovacuum={'on' if autovacuum else 'off'}")
    subprocess.run(_as_owner(["pg_ctl", "-D", str(data), "-o", options, "-l",
                              str(directory / "log"), "-w", "-t", "60", "start"]),
                   check=True, capture_output=True)
    return Cluster(directory=directory, port=port)


def stop(cluster: Cluster) -> None:
    subprocess.run(_as_owner(["pg_ctl", "-D", str(cluster.directory / "data"), "-m", "immediate",
                              "stop"]), capture_output=True)
    shutil.rmtree(cluster.directory, ignore_errors=True)
