"""A throwaway PostgreSQL cluster for the tests: Debian's binaries, run as the `postgres` user (PostgreSQL
refuses to run as root), in a temporary folder, on a free loopback port; stopped by the fixture that made it."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from support import free_port


@dataclass(frozen=True)
class Cluster:
    """A running cluster: `url(dbname)` gives an asyncpg URL for a database in it."""

    bin_dir: Path
    data: Path
    port: int

    def url(self, database: str, driver: str = "asyncpg") -> str:
        """The DATABASE_URL of `database` (made with create_database) on this cluster."""
        return f"postgresql+{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run one of the cluster's binaries as the postgres user (or as ourselves when not root)."""
        command = [str(self.bin_dir / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    def create_database(self, name: str) -> str:
        """A new empty database; its URL."""
        result = self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        assert result.returncode == 0, result.stderr
        return self.url(name)

    def stop(self) -> None:
        """Stop the server fast (existing connections are cut)."""
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def start(self) -> None:
        """Start (or restart) the server; waits until it accepts connections."""
        options = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = self.data.parent / "server.log"
        result = self.run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(log), "-w", "-t", "60", "start")
        assert result.returncode == 0, result.stdout + result.stderr + (log.read_text() if log.exists() else "")


def postgres_bin_dir() -> Path | None:
    """Debian's /usr/lib/postgresql/<version>/bin (the newest), if PostgreSQL is installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """initdb + start a cluster in a temporary folder; stop it and remove the folder afterwards."""
    bin_dir = postgres_bin_dir()
    assert bin_dir is not None, "PostgreSQL is not installed (.ci/run installs Debian's postgresql)"
    folder = Path(tempfile.mkdtemp(prefix="tkit-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(folder, account.pw_uid, account.pw_gid)
    cluster = Cluster(bin_dir, folder / "data", free_port())
    initdb = cluster.run("initdb", "-D", str(cluster.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
    assert initdb.returncode == 0, initdb.stdout + initdb.stderr
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
