"""Chat fan-out: messages/s delivered and p50/p99 delivery latency, in-process against Redis, same run.

Generates a project, starts a real redis-server and real workers (`python -m mysite`), connects K
WebSocket clients spread over the workers (K signed-in users, one socket each: the chat caps sockets and
budgets messages per account), and runs R rounds in which
every client sends one message that all K clients must receive. Configurations, measured one after
the other on the same machine: in-process fan-out with 1 worker (the only correct in-process set-up),
Redis with 1 worker (the cost of the Redis hop), Redis with N workers (scale-out).

    python benchmarks/chat_fanout.py [--clients 40] [--workers 2] [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from scale.harness import ChatSocket, Client, Process, RedisServer, start_worker
from support import free_port

PASSWORD = "correct horse battery staple"
ROUND_PAUSE = 0.25  # seconds between rounds: keeps every account under the chat's per-account rate limit


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=40, help="WebSocket clients (K)")
    parser.add_argument("--workers", type=int, default=2, help="workers for the Redis scale-out run (N)")
    parser.add_argument("--rounds", type=int, default=10, help="rounds; each client sends one message per round")
    return parser.parse_args()


def create_accounts(project: Path, database: Path, count: int) -> None:
    """`count` accounts made once with `createuser` (sign-up through HTTP is throttled per address), in a
    database migrated first as a deploy does."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    subprocess.run([sys.executable, "-m", "mysite", "migrate"], cwd=project, env=env, capture_output=True, check=True)
    for index in range(count):
        command = [sys.executable, "-m", "mysite", "createuser", f"bench{index}"]
        subprocess.run(command, cwd=project, env=env, input=PASSWORD + "\n", text=True, capture_output=True, check=True)


async def connect_clients(bases: list[str], count: int) -> list[ChatSocket]:
    """`count` accounts, each signed in with one socket, spread round-robin over the workers."""
    sockets = []
    for index in range(count):
        client = Client()
        await client.log_in(bases[0], f"bench{index}", PASSWORD)
        sockets.append(await client.open_chat(bases[index % len(bases)]))
    return sockets


async def collect(socket: ChatSocket, expected: int, sent_at: dict[str, float], latencies: list[float]) -> None:
    """Read until `expected` chat messages arrived on this socket, recording each one's delivery latency."""
    received = 0
    while received < expected:
        raw = await asyncio.wait_for(socket.connection.read_message(), 30)
        if raw is None:
            raise RuntimeError(f"socket closed: {socket.connection.close_code} {socket.connection.close_reason}")
        message = json.loads(raw)
        if message.get("type") == "message" and message.get("id") in sent_at:
            latencies.append(time.perf_counter() - sent_at[message["id"]])
            received += 1


async def run_rounds(sockets: list[ChatSocket], rounds: int, label: str = "r") -> dict[str, float]:
    """Every round: each socket sends one message; wait until every socket got all of them."""
    latencies: list[float] = []
    busy = 0.0
    for number in range(rounds):
        sent_at: dict[str, float] = {}
        readers = [asyncio.ensure_future(collect(s, len(sockets), sent_at, latencies)) for s in sockets]
        started = time.perf_counter()
        for index, socket in enumerate(sockets):
            message_id = f"{label}{number}-{index}"
            sent_at[message_id] = time.perf_counter()
            await socket.say("x" * 40, message_id)
        await asyncio.gather(*readers)
        busy += time.perf_counter() - started
        await asyncio.sleep(ROUND_PAUSE)
    return summarize(latencies, busy)


def summarize(latencies: list[float], busy: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "delivered": len(ordered),
        "per_second": len(ordered) / busy,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    }


def measure(
    project: Path, folder: Path, workers: int, redis_url: str | None, args: argparse.Namespace
) -> dict[str, float]:
    """Start `workers` workers (a fresh copy of the accounts database), run the rounds, stop everything."""
    database = folder / f"bench-{time.monotonic_ns()}.sqlite3"
    shutil.copyfile(folder / "accounts.sqlite3", database)  # migrated, with the accounts
    env = {"DATABASE_URL": f"sqlite:///{database}", **({"REDIS_URL": redis_url} if redis_url else {})}
    processes: list[Process] = []
    try:
        ports = [free_port() for _ in range(workers)]
        for port in ports:
            processes.append(start_worker(project, port, env, folder / f"worker-{port}.log"))
        bases = [f"http://127.0.0.1:{port}" for port in ports]

        async def session() -> dict[str, float]:
            sockets = await connect_clients(bases, args.clients)
            try:
                await run_rounds(sockets, 1, "warm-up")  # not counted
                await asyncio.sleep(ROUND_PAUSE)
                return await run_rounds(sockets, args.rounds)
            finally:
                for socket in sockets:
                    socket.close()

        return asyncio.run(session())
    finally:
        for process in processes:
            process.stop()


def main() -> None:
    args = parse_args()
    from tornado_kit.new import new_project

    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        project = folder / "mysite"
        new_project("mysite", project, redis=True)
        create_accounts(project, folder / "accounts.sqlite3", args.clients)
        redis = RedisServer(folder)
        redis.start()
        try:
            runs = [("in-process", 1, None), ("redis", 1, redis.url), ("redis", args.workers, redis.url)]
            results = [(name, n, measure(project, folder, n, url, args)) for name, n, url in runs]
        finally:
            redis.stop()
    report(results, args)


def report(results: list[tuple[str, int, dict[str, Any]]], args: argparse.Namespace) -> None:
    print(f"chat fan-out: {args.clients} clients, {args.rounds} rounds, each client sends 1 message per round")
    print(f"{'backend':<11} {'workers':>7} {'delivered':>9} {'msgs/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for name, workers, r in results:
        print(
            f"{name:<11} {workers:>7} {r['delivered']:>9} {r['per_second']:>9.0f} "
            f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f}"
        )
    base = results[0][2]["per_second"]
    for name, workers, r in results[1:]:
        print(f"{name} x{workers} / in-process x1 throughput ratio: {r['per_second'] / base:.2f}")


if __name__ == "__main__":
    main()
