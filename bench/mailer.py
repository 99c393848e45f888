"""Benchmark: SmtpPool against a bare aiosmtplib loop, both sending the same pre-built messages.

    .venv/bin/python bench/mailer.py                                  # 20,000 messages, 8 connections
    .venv/bin/python bench/mailer.py --messages 100000 --connections 16 --uvloop
    .venv/bin/python bench/mailer.py --sink smtp-sink                 # Postfix's sink, PIPELINING
    .venv/bin/python bench/mailer.py --sink smtp-sink --no-pipelining # the same without it

The sink runs in a separate process (so it does not share the client's core) and
counts what it accepts: by default aiosmtpd (which does not offer PIPELINING); with
`--sink smtp-sink`, Postfix's smtp-sink (written in C, so the client is measured rather
than the sink, and offering PIPELINING unless `--no-pipelining`: the pool then sends
MAIL, RCPT and DATA in one write, two round trips per message instead of four; the raw
aiosmtplib loop never pipelines). In the same run, and in alternating rounds, the same
messages (built once by `build_message`) go out

- raw: `connections` aiosmtplib.SMTP clients, each looping over `sendmail`, the
  least a careful user would write by hand;
- pool: `SmtpPool(size=connections).send` from as many workers, with its per-message
  work: address checks, outcome classification, the write watch for in-doubt replies.

It prints messages per second for each (the best round), their ratio, the client's
CPU time per message (which, unlike the rate, holds on a busy machine), and how fast
`build_message` itself is on one core. Target: the pool within 10 % of the raw loop.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiosmtplib
from aiosmtpd.smtp import SMTP, Envelope, Session

from notifications.delivery.mailer import SmtpPool
from notifications.delivery.message import build_message, new_message_id
from notifications.delivery.outcomes import Status

SENDER = "breachdesk@breach.example"
TEXT = ("Dear {name},\n\nOn 3 March 2026 we found that an attacker had copied part of our customer "
        "database. Your name, e-mail address and postal address were in it; your password and "
        "payment details were not.\n\nWhat we did: we closed the access, reset every session and "
        "reported the breach to the supervisory authority.\n\nWhat you can do: be wary of e-mails "
        "that ask for your details or for payment.\n\nContact our data protection officer at "
        "dpo@breach.example.\n") * 2
HTML = "<html><body><p>" + TEXT.replace("\n\n", "</p>\n<p>") + "</p></body></html>\n"


class _Count:
    def __init__(self, counter: Synchronized[int]) -> None:
        self.counter = counter

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.counter.get_lock():
            self.counter.value += 1
        return "250 2.0.0 Ok"


def _sink(sock: socket.socket, counter: Synchronized[int], use_uvloop: bool) -> None:
    if use_uvloop:
        import uvloop
        uvloop.install()
    loop = asyncio.new_event_loop()
    handler = _Count(counter)
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", loop=loop), sock=sock))
    try:
        loop.run_forever()
    finally:
        server.close()


SMTP_SINK = "/usr/sbin/smtp-sink"


class _SmtpSink:
    """Postfix's smtp-sink on a free loopback port; `-c` prints its running counters."""

    def __init__(self, pipelining: bool) -> None:
        command = shutil.which("smtp-sink") or SMTP_SINK
        if not Path(command).exists():
            raise SystemExit("smtp-sink is not installed (Debian: apt-get install postfix)")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        options = ["-c", "-h", "sink.test"] + ([] if pipelining else ["-p"])
        if os.geteuid() == 0:
            options += ["-u", "nobody"]  # it refuses to run as root otherwise
        # A file, not a pipe: the counters are rewritten after every message and a full
        # pipe would stall the sink.
        self.output = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen([command, *options, f"127.0.0.1:{self.port}", "1000"],
                                        stdout=self.output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"smtp-sink did not start: {self._read().strip()}") from None
                time.sleep(0.05)

    def stop(self) -> int:
        """Stop it and return the messages it counted."""
        self.process.terminate()
        self.process.wait(timeout=10)
        counts = re.findall(r"mesg=(\d+)", self._read())
        self.output.close()
        return int(counts[-1]) if counts else 0

    def _read(self) -> str:
        self.output.seek(0)
        return self.output.read().decode(errors="replace")


def _messages(count: int) -> list[tuple[str, bytes]]:
    recipients = [f"person{i}@example.com" for i in range(count)]
    return [(to, build_message(sender=f"Breachdesk <{SENDER}>", to=to, to_name=f"Person {i}",
                               subject=f"Important: a breach of your personal data ({i})",
                               text=TEXT.format(name=f"Person {i}"), html=HTML.format(name=f"Person {i}"),
                               message_id=new_message_id("breach.example", f"bench-{i}")))
            for i, to in enumerate(recipients)]


async def _workers(count: int, work: Callable[[int], Awaitable[None]]) -> float:
    start = time.perf_counter()
    await asyncio.gather(*[work(w) for w in range(count)])
    return time.perf_counter() - start


async def _raw(port: int, connections: int, batch: list[tuple[str, bytes]]) -> float:
    clients = [aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="bench.test",
                               start_tls=False) for _ in range(connections)]
    await asyncio.gather(*[client.connect() for client in clients])
    queue: Iterator[tuple[str, bytes]] = iter(batch)

    async def work(w: int) -> None:
        for to, data in queue:
            await clients[w].sendmail(SENDER, [to], data)

    elapsed = await _workers(connections, work)
    await asyncio.gather(*[client.quit() for client in clients])
    return elapsed


async def _pool(port: int, connections: int, batch: list[tuple[str, bytes]]) -> float:
    queue: Iterator[tuple[str, bytes]] = iter(batch)
    failures: list[Any] = []
    async with SmtpPool("127.0.0.1", port, size=connections, local_hostname="bench.test") as pool:

        async def work(w: int) -> None:
            for to, data in queue:
                outcome = await pool.send(SENDER, to, data)
                if outcome.status is not Status.SENT:
                    failures.append(outcome)

        elapsed = await _workers(connections, work)
    if failures:
        raise SystemExit(f"the pool did not send {len(failures)} messages: {failures[0]}")
    return elapsed


def _build_rate(count: int) -> float:
    start = time.perf_counter()
    _messages(count)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--uvloop", action="store_true", help="run client and sink on uvloop")
    parser.add_argument("--sink", choices=["aiosmtpd", "smtp-sink"], default="aiosmtpd",
                        help="the server: aiosmtpd in a process of its own, or Postfix's smtp-sink")
    parser.add_argument("--no-pipelining", action="store_true",
                        help="smtp-sink without PIPELINING (aiosmtpd never offers it)")
    args = parser.parse_args()
    if args.no_pipelining and args.sink != "smtp-sink":
        parser.error("--no-pipelining applies to --sink smtp-sink")

    distinct = min(args.messages, 2_000)
    built = _messages(distinct)
    batch = [built[i % distinct] for i in range(args.messages)]
    size = sum(len(data) for _, data in built) // distinct

    counter: Synchronized[int] = multiprocessing.Value("q", 0)
    if args.sink == "smtp-sink":
        smtp_sink = _SmtpSink(pipelining=not args.no_pipelining)
        port = smtp_sink.port
        described = f"smtp-sink {'without' if args.no_pipelining else 'with'} PIPELINING"
    else:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(512)
        port = sock.getsockname()[1]
        sink = multiprocessing.get_context("fork").Process(target=_sink, args=(sock, counter, args.uvloop),
                                                           daemon=True)
        sink.start()
        sock.close()
        described = "aiosmtpd sink"
    if args.uvloop:
        import uvloop
        uvloop.install()

    print(f"{args.messages:,} messages of {size:,} bytes, {args.connections} connections, "
          f"{described} in its own process{', uvloop' if args.uvloop else ''}")
    best = {"raw": float("inf"), "pool": float("inf")}
    cpu = {"raw": float("inf"), "pool": float("inf")}
    try:
        asyncio.run(_raw(port, args.connections, batch[: min(1000, len(batch))]))  # warm up both ends
        for _, (name, run) in itertools.product(range(args.rounds), [("raw", _raw), ("pool", _pool)]):
            started = time.process_time()
            elapsed = asyncio.run(run(port, args.connections, batch))
            cpu[name] = min(cpu[name], (time.process_time() - started) / args.messages)
            best[name] = min(best[name], elapsed)
            print(f"  {name:<5} {args.messages / elapsed:>10,.0f} messages/s")
    finally:
        if args.sink == "smtp-sink":
            counter.value = smtp_sink.stop()
        else:
            sink.terminate()
            sink.join()
    expected = min(1000, len(batch)) + args.rounds * 2 * args.messages
    if counter.value != expected:
        raise SystemExit(f"the sink counted {counter.value:,} messages, expected {expected:,}")

    raw_rate, pool_rate = args.messages / best["raw"], args.messages / best["pool"]
    print(f"raw aiosmtplib sendmail  {raw_rate:>10,.0f} messages/s (best of {args.rounds})")
    print(f"SmtpPool.send            {pool_rate:>10,.0f} messages/s (best of {args.rounds})")
    print(f"ratio pool / raw         {pool_rate / raw_rate:>10.2f}")
    print(f"client CPU per message   {cpu['raw'] * 1e6:>10,.0f} µs raw, {cpu['pool'] * 1e6:,.0f} µs pool "
          f"({cpu['pool'] / cpu['raw']:.2f} times)")
    print(f"build_message, one core  {_build_rate(distinct):>10,.0f} messages/s")


if __name__ == "__main__":
    main()
