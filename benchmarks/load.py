"""The REST service under load: concurrent clients against ``expsql serve`` on the demo database.

Starts ``expsql serve`` as a subprocess on a free loopback port, serving the demo database (written
once here, so the server and the in-process baseline read the same file), and runs ``--clients``
concurrent HTTP clients for ``--seconds``. Each client sends a mix: the demo experiment to
``/evaluate`` (expects 200, half of them with goal rows), an experiment with a bad expression
(expects 422) and ``/health`` (expects 200). It prints the requests, the transport errors and
unexpected statuses (a healthy server has none, and never a 5xx), the throughput, the latency
percentiles, the server's resident memory at the start, middle and end of the load (bounded: it
does not grow with the number of requests), and two ratios against a baseline measured in the same
run: one client's HTTP evaluation against the same evaluation in-process (the HTTP overhead), and
the throughput under load against in-process evaluations one after another.

Run from the repository root::

    .venv/bin/python benchmarks/load.py                          # 8 clients × 20 s
    .venv/bin/python benchmarks/load.py --clients 16 --seconds 60 --workers 8

    .venv/bin/python benchmarks/load.py --auth both              # bearer tokens off, then on

The exit status is 1 if any answer was a 5xx, an unexpected status or a transport error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import math
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 60
#: The variable ``--auth`` hands the server its token in (``expsql serve --token-env``).
TOKEN_ENV = "EXPSQL_LOAD_TOKENS"
#: Request kinds, the status each expects and its share of the mix.
MIX: dict[str, tuple[int, float]] = {
    "evaluate": (200, 0.7),
    "bad_expression": (422, 0.15),
    "health": (200, 0.15),
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_bytes(pid: int) -> int:
    """Resident memory of process ``pid`` (psutil if installed, else ``/proc/<pid>/status``)."""
    try:
        import psutil
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no VmRSS for process {pid}") from None
    return int(psutil.Process(pid).memory_info().rss)


def write_config(directory: Path, database: Path, workers: int | None) -> Path:
    """An ``expsql.toml`` serving ``database`` read-only through the duckdb connector."""
    config = directory / "expsql.toml"
    lines = ["[server]", 'dialect = "duckdb"', f"connect = {str(database)!r}"]
    if workers is not None:
        lines.append(f"workers = {workers}")
    config.write_text("\n".join([*lines, "", "[connectors.duckdb]", "read_only = true", ""]))
    return config


@contextlib.contextmanager
def running_server(
    config: Path,
    *,
    token: str | None = None,
    log_level: str = "warning",
    output: Path | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``expsql serve --config config`` on a free loopback port until the block ends; yields its URL.

    With ``token`` the server requires it (``--token-env``); ``output`` receives the server's log
    (else a pipe, read only if it fails to start: keep ``log_level`` quiet then).
    """
    port = free_port()
    command = [
        sys.executable,
        "-c",
        "from expsql.cli import main; main()",
        "serve",
        "--port",
        str(port),
        "--config",
        str(config),
        "--log-level",
        log_level,
    ]
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    environment = os.environ | {"NO_COLOR": "1", "PYTHONPATH": path}
    if token is not None:
        command += ["--token-env", TOKEN_ENV]
        environment[TOKEN_ENV] = token
    sink = output.open("wb") if output is not None else subprocess.PIPE
    process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=environment)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                printed = process.stdout.read() if process.stdout else output.read_bytes()  # type: ignore[union-attr]
                raise RuntimeError(f"expsql serve exited with {process.returncode}:\n{printed.decode()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"expsql serve did not answer within {STARTUP_SECONDS} s")
            time.sleep(0.2)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if output is not None:
            sink.close()  # type: ignore[union-attr]


def valid_body(goal_rows: bool = False) -> dict[str, Any]:
    """The demo experiment (three metrics, an SRM check), as the API docs' example sends it."""
    from expsql.server.schemas import DEMO_BODY

    return copy.deepcopy(DEMO_BODY) | ({"rows": "goals"} if goal_rows else {})


def bad_body() -> dict[str, Any]:
    body = valid_body()
    body["metrics"][1]["nominator"] = "value(user.unit.conversion(product=p_1)"  # unclosed parenthesis
    return body


@dataclass
class Answer:
    kind: str
    status: int | None  # None: the request failed in transport (timeout, connection reset)
    seconds: float


@dataclass
class Load:
    """What the clients saw, and the server's memory while they ran."""

    clients: int
    seconds: float
    elapsed: float = 0.0  # the last answers arrive after ``seconds``
    answers: list[Answer] = field(default_factory=list)
    transport_errors: Counter[str] = field(default_factory=Counter)
    rss: list[tuple[float, int]] = field(default_factory=list)  # (seconds since start, bytes)

    def unexpected(self) -> list[Answer]:
        return [a for a in self.answers if a.status is not None and a.status != MIX[a.kind][0]]

    def server_errors(self) -> list[Answer]:
        return [a for a in self.answers if a.status is not None and a.status >= 500]

    def ok(self) -> bool:
        return not (self.unexpected() or self.server_errors() or self.transport_errors)


def auth_headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def _client(url: str, index: int, until: float, seed: int, load: Load, token: str | None) -> None:
    rng = random.Random(seed * 1000 + index)
    kinds = list(MIX)
    weights = [MIX[kind][1] for kind in kinds]
    bodies = {"bad_expression": bad_body(), "evaluate": valid_body(), "goals": valid_body(goal_rows=True)}
    async with httpx.AsyncClient(base_url=url, timeout=120, headers=auth_headers(token)) as client:
        sent = 0
        while time.monotonic() < until:
            # Every kind once first (a short run still sends each), then the weighted mix.
            kind = kinds[(index + sent) % len(kinds)] if sent < len(kinds) else rng.choices(kinds, weights)[0]
            sent += 1
            started = time.perf_counter()
            try:
                if kind == "health":
                    answer = await client.get("/health")
                else:
                    body = bodies["goals" if kind == "evaluate" and rng.random() < 0.5 else kind]
                    answer = await client.post("/evaluate", json=body)
                    answer.json()
                load.answers.append(Answer(kind, answer.status_code, time.perf_counter() - started))
            except httpx.TransportError as error:
                load.transport_errors[type(error).__name__] += 1
                load.answers.append(Answer(kind, None, time.perf_counter() - started))


async def _watch_memory(pid: int, started: float, until: float, load: Load, every: float) -> None:
    while True:
        load.rss.append((time.monotonic() - started, rss_bytes(pid)))
        if time.monotonic() >= until:
            return
        await asyncio.sleep(min(every, max(0.0, until - time.monotonic())))


async def _load(url: str, pid: int, clients: int, seconds: float, seed: int, token: str | None) -> Load:
    load = Load(clients, seconds)
    started = time.monotonic()
    until = started + seconds
    memory = asyncio.create_task(_watch_memory(pid, started, until, load, every=max(0.25, seconds / 40)))
    await asyncio.gather(*(_client(url, index, until, seed, load, token) for index in range(clients)))
    await memory
    load.elapsed = time.monotonic() - started
    load.rss.append((load.elapsed, rss_bytes(pid)))
    return load


def run_load(
    url: str, pid: int, *, clients: int, seconds: float, seed: int = 2026, token: str | None = None
) -> Load:
    """``clients`` concurrent clients sending the mix for ``seconds`` (with ``token``, if given); the
    server's RSS sampled meanwhile."""
    return asyncio.run(_load(url, pid, clients, seconds, seed, token))


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile: the smallest value with ``q`` % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Baseline:
    in_process: float  # median seconds of one evaluation in this process (compile, query, statistics)
    http: float  # median seconds of the same evaluation over HTTP, one client, idle server

    @property
    def ratio(self) -> float:
        return self.http / self.in_process


def measure_baseline(url: str, database: Path, rounds: int, token: str | None = None) -> Baseline:
    """The demo experiment in-process and over HTTP, alternating, after one warm-up of each."""
    from expsql import dialects
    from expsql.report.epstats import epstats_result
    from expsql.runner import run
    from expsql.server.schemas import EvaluateRequest

    experiment = EvaluateRequest.model_validate(valid_body())

    def in_process() -> float:
        started = time.perf_counter()
        dao = dialects.get("duckdb").connect(str(database), read_only=True)
        outcome = run(experiment, dao, dialect="duckdb", rows="metrics")
        epstats_result(experiment, outcome.evaluation)
        return time.perf_counter() - started

    def over_http(client: httpx.Client) -> float:
        started = time.perf_counter()
        answer = client.post("/evaluate", json=valid_body())
        answer.raise_for_status()
        return time.perf_counter() - started

    with httpx.Client(base_url=url, timeout=120, headers=auth_headers(token)) as client:
        in_process()
        over_http(client)
        local, remote = [], []
        for _ in range(rounds):
            local.append(in_process())
            remote.append(over_http(client))
    return Baseline(statistics.median(local), statistics.median(remote))


def report(load: Load, baseline: Baseline | None = None) -> str:
    """The figures, one line each."""
    mib = 1024 * 1024
    answered = [a for a in load.answers if a.status is not None]
    kinds = Counter(a.kind for a in load.answers)
    statuses = Counter(a.status for a in answered)
    evaluations = [a.seconds for a in answered if a.kind == "evaluate" and a.status == 200]
    health = [a.seconds for a in answered if a.kind == "health"]
    latencies = [a.seconds for a in answered]
    elapsed = load.elapsed or load.seconds
    lines = [
        f"load            {load.clients} clients × {load.seconds:g} s (last answer at {elapsed:.1f} s)",
        f"requests        {len(load.answers)} ("
        + ", ".join(f"{kind} {kinds[kind]}" for kind in MIX)
        + f"); statuses {dict(sorted(statuses.items()))}",
        f"errors          {sum(load.transport_errors.values())} transport {dict(load.transport_errors)}, "
        f"{len(load.unexpected())} unexpected statuses, {len(load.server_errors())} 5xx",
        f"throughput      {len(answered) / elapsed:.1f} requests/s, "
        f"{len(evaluations) / elapsed:.1f} evaluations/s",
    ]
    for name, values in (
        ("latency all", latencies),
        ("latency eval", evaluations),
        ("latency health", health),
    ):
        if values:
            lines.append(
                f"{name:<16}"
                + ", ".join(f"p{q} {percentile(values, q) * 1000:.0f} ms" for q in (50, 90, 99))
                + f", max {max(values) * 1000:.0f} ms"
            )
    if load.rss:
        start, middle, end = load.rss[0], load.rss[len(load.rss) // 2], load.rss[-1]
        peak = max(rss for _, rss in load.rss)
        lines.append(
            "server RSS      "
            + ", ".join(
                f"{label} {rss / mib:.0f} MiB (t={at:.0f} s)"
                for label, (at, rss) in (("start", start), ("middle", middle), ("end", end))
            )
            + f"; peak {peak / mib:.0f} MiB over {len(load.rss)} samples"
        )
    if baseline is not None:
        sequential = 1 / baseline.in_process
        lines += [
            f"baseline        in-process evaluation {baseline.in_process * 1000:.0f} ms, over HTTP "
            f"(one client) {baseline.http * 1000:.0f} ms: HTTP overhead ratio {baseline.ratio:.2f}x",
            f"under load      {len(evaluations) / elapsed:.1f} evaluations/s vs in-process one after "
            f"another {sequential:.1f}/s: ratio {len(evaluations) / elapsed / sequential:.2f}x",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--seconds", type=float, default=20, help="duration of the load (default 20)")
    parser.add_argument("--workers", type=int, default=None, help="server's worker pool (default 4)")
    parser.add_argument("--units", type=int, default=None, help="demo database users (default 100,000)")
    parser.add_argument("--baseline-rounds", type=int, default=10, help="rounds of the baseline (default 10)")
    parser.add_argument("--seed", type=int, default=2026)
    auth = "server requires bearer tokens; both: a run each, then the latency ratio"
    parser.add_argument("--auth", choices=("off", "on", "both"), default="off", help=auth)
    args = parser.parse_args()

    from expsql.demo import write_demo_database
    from expsql.server.factory import DEMO_UNITS

    units = args.units or DEMO_UNITS
    modes = ["off", "on"] if args.auth == "both" else [args.auth]
    loads: dict[str, Load] = {}
    with tempfile.TemporaryDirectory(prefix="expsql-load-") as directory:
        started = time.perf_counter()
        database = write_demo_database(Path(directory) / "demo.duckdb", units=units)
        print(f"demo database   {units:,} users, written in {time.perf_counter() - started:.1f} s")
        config = write_config(Path(directory), database, args.workers)
        for mode in modes:
            token = secrets.token_hex(32) if mode == "on" else None
            with running_server(config, token=token) as (url, process):
                idle = rss_bytes(process.pid)
                baseline = measure_baseline(url, database, args.baseline_rounds, token)
                load = run_load(
                    url, process.pid, clients=args.clients, seconds=args.seconds, seed=args.seed, token=token
                )
                after = httpx.get(f"{url}/metrics", timeout=10, headers=auth_headers(token)).text
            loads[mode] = load
            print(f"\n--- authentication {mode}")
            print(f"server idle     {idle / 1024 / 1024:.0f} MiB RSS after startup, before any evaluation")
            print(report(load, baseline))
            counts = [line for line in after.splitlines() if line.startswith("expsql_evaluations_total")]
            print("server metrics  " + "; ".join(counts))
    if len(loads) == 2:
        print("\n" + auth_ratio(loads["off"], loads["on"]))
    sys.exit(0 if all(load.ok() for load in loads.values()) else 1)


def auth_ratio(off: Load, on: Load) -> str:
    """Evaluation latency percentiles with tokens over those without (1.00: authentication costs nothing)."""

    def latencies(load: Load) -> list[float]:
        return [a.seconds for a in load.answers if a.kind == "evaluate" and a.status == 200]

    ratios = {q: percentile(latencies(on), q) / percentile(latencies(off), q) for q in (50, 90, 99)}
    return "auth on / off   latency eval " + ", ".join(f"p{q} {ratio:.2f}x" for q, ratio in ratios.items())


if __name__ == "__main__":
    main()
