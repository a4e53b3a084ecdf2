"""Reading ahead: during a backlog, a child process fetches and reads the next batches.

A backfill is CPU-bound on two sides of the matcher's one directory read:
before it, the connector parsing what the server sends and
``matcher.read_batch`` (participants, zones of the bodies); after it,
``matcher.plan_reading`` and storage. The first side needs no stored
contact, so while this process resolves and stores batch N a forked child
fetches and reads batch N+1 with a connector of its own. The plans are the
ones the plain loop makes (``tests/unit/test_matcher_reading.py``), and the
cursor still moves only when this process commits a batch: the child never
touches the database, so killing either process loses and doubles nothing.

One child serves an account's whole pass, its streams in turn, on one
server session. It starts for a stream's first sync (all backlog), and
otherwise only once a pass has fetched a batch that says more follows: an
idle poll stays one cheap request per folder on the kept connection. When
the agent's connector will not be kept for later polls (``autocapture
sync``), the child also lists the streams of an account's very first sync,
so that connector does not log in just to list folders; a kept one lists
them itself, on the session its idle polls will use. Batches
arrive in order over a bounded queue (at most ``DEPTH`` ahead, so memory
stays bounded); a failure in the child (a refused login, an expired
cursor, a fetch that outlived its retries) arrives in its place and is
raised here, where the plain loop would have raised it. A child that dies
silently is a ``TransientError``. A parent that dies takes the child with
it: on Linux the kernel kills the child (``PR_SET_PDEATHSIG``) even while it
waits on a silent server; elsewhere the child notices at its next hand-over.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import pickle
import queue
import signal
import sys
from collections.abc import Generator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import matcher
from agent.connections import build_connector, close_quietly
from agent.redact import redact, register_secret, registered_since
from agent.retry import fetch_with_retry
from agent.tokens import StoredTokens
from config.accounts import AccountBase
from connectors.base import Connector, Limits, TransientError, Window
from connectors.records import Batch, Cursor
from matcher.plan import AccountPolicy

log = logging.getLogger("autocapture.readahead")

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
DEPTH = 2  # batches the child may hold ready: enough to never wait, and bounded
_POLL = 1.0  # seconds between liveness checks while waiting on the other side


@dataclass(frozen=True, slots=True)
class Ahead:
    """One batch as the child hands it over: records already read, so dropped."""

    batch: Batch  # records emptied; errors, cursor, has_more and removed kept
    reading: matcher.Reading
    records: int


@dataclass(frozen=True, slots=True)
class _Child:
    """A running read-ahead process and the queues to it."""

    process: Any
    jobs: Any  # to the child: (stream, cursor), STREAMS, or None to finish
    handover: Any  # from the child: Ahead, a stream list, or an exception


STREAMS = "streams"  # the job "list the account's streams"


@dataclass(slots=True)
class ReadAhead:
    """One account's read-ahead for one pass: one child serves its streams in turn.

    The child starts on the first request and ends with ``close``: one
    process, and one server session, for the account however many streams
    it has. A stream the agent stops reading before its end ends the child
    (it is ahead on that stream); the next request starts another.
    """

    account: AccountBase  # the account's settings (forked, never pickled: they may hold secrets)
    window: Window  # the kept connector's, so both fetch the same mail
    limits: Limits
    policy: AccountPolicy
    batch_size: int
    fetched_at: datetime  # dates mail that carries no usable date, as the plain loop does
    # The agent's token store; the child opens its own connection to it (agent.tokens).
    tokens: StoredTokens | None = None
    _child: _Child | None = None

    def streams(self) -> list[str]:
        """The account's streams, listed by the child on its own session: on a
        first sync the agent's connector then need not log in at all."""
        child = self._started()
        child.jobs.put(STREAMS)
        names: list[str] = _receive(child)
        return names

    def batches(self, stream: str, cursor: Cursor | None) -> Generator[Ahead, None, None]:
        """The batches of ``stream`` after ``cursor``, in order, fetched and read by the child.

        Closing the iterator before the stream's end (a stop, a failure here) stops the child.
        """
        child = self._started()
        child.jobs.put((stream, cursor))
        finished = False
        try:
            while True:
                ahead: Ahead = _receive(child)
                finished = not ahead.batch.has_more
                yield ahead
                if finished:
                    return
        finally:
            if not finished:
                self.close()

    def close(self) -> None:
        """Ends the child: asked to finish (it logs out), else terminated."""
        child, self._child = self._child, None
        if child is None:
            return
        if child.process.is_alive():
            child.jobs.put(None)
            child.process.join(timeout=_POLL)
        if child.process.is_alive():  # busy ahead on a stream nobody reads any more
            child.process.terminate()
            child.process.join(timeout=_POLL * 5)
        if child.process.is_alive():  # terminated before it could reset its handlers
            child.process.kill()
            child.process.join()
        child.handover.close()
        child.jobs.close()

    def _started(self) -> _Child:
        if self._child is None:
            context = multiprocessing.get_context("fork")  # inherits settings and secrets
            jobs: Any = context.Queue()
            handover: Any = context.Queue(maxsize=DEPTH)
            process = context.Process(
                target=self._serve,
                args=(jobs, handover, os.getpid()),
                name="autocapture-readahead",
                daemon=True,
            )
            process.start()
            self._child = _Child(process, jobs, handover)
        return self._child

    def _serve(self, jobs: Any, handover: Any, parent: int) -> None:
        """The child: one connector, the agent's requests in turn, until told to finish."""
        # The agent's handlers came along with the fork: there SIGTERM and
        # SIGINT ask for a stop after the batch in hand. The child must die
        # on the agent's terminate(), and leave Ctrl-C (sent to the whole
        # process group) to the agent, which stops it in turn.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _die_with(parent)
        global _known
        _, _known = registered_since(0)  # the agent knew these when it forked
        connector = None
        try:
            # This process is the backlog's one reader ahead: no thread of the
            # connector's fetching a batch ahead besides.
            connector = build_connector(
                self.account, self.window, self.limits, fetch_ahead=False, tokens=self.tokens
            )
            while (job := _next_job(jobs, parent)) is not None:
                if job == STREAMS:
                    done = _hand_over(handover, connector.streams(), parent)
                else:
                    stream, cursor = job
                    done = self._produce(connector, stream, cursor, handover, parent)
                if not done:
                    return
        except Exception as exc:
            _hand_over(handover, _portable(exc), parent)
        finally:
            if connector is not None:
                close_quietly(connector)
            if os.getppid() != parent:
                # Nobody will read what is still buffered: exit without
                # waiting to flush it into a pipe that no longer drains.
                handover.cancel_join_thread()
            handover.close()

    def _produce(
        self, connector: Connector, stream: str, cursor: Cursor | None, handover: Any, parent: int
    ) -> bool:
        """Fetch, read and hand over ``stream`` to its end; False when the parent is gone."""
        while True:
            batch = fetch_with_retry(connector, stream, cursor, self.batch_size)
            reading = matcher.read_batch(batch.records, self.policy, fetched_at=self.fetched_at)
            ahead = Ahead(replace(batch, records=[]), reading, len(batch.records))
            if not _hand_over(handover, ahead, parent):
                return False
            if not batch.has_more:
                return True
            cursor = batch.next_cursor


def _next_job(jobs: Any, parent: int) -> Any:
    """The agent's next request; None to finish (asked to, or the agent is gone)."""
    while True:
        try:
            return jobs.get(timeout=_POLL)
        except queue.Empty:
            if os.getppid() != parent:
                return None


def _die_with(parent: int) -> None:
    """Have the kernel kill this child when the agent dies (SIGKILL included).

    The signal comes when the *thread* that forked the child ends; the
    thread that forks (the CLI's main thread, a poller worker) outlives
    the child's iterator, which stops the child itself on the way out.
    """
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            log.debug("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
    if os.getppid() != parent:  # the agent died before the request took effect
        os._exit(0)


def _receive(child: _Child) -> Any:
    """The child's next hand-over; its failure raised here."""
    while True:
        try:
            fresh, item = child.handover.get(timeout=_POLL)
        except queue.Empty:
            if not child.process.is_alive():
                raise TransientError(
                    "the read-ahead process ended unexpectedly "
                    f"(exit code {child.process.exitcode})"
                ) from None
            continue
        for secret in fresh:  # before anything could log the item
            register_secret(secret)
        if isinstance(item, BaseException):
            raise item
        return item


# In the child: how many of its registered secrets the agent knows already.
_known = 0


def _hand_over(handover: Any, item: object, parent: int) -> bool:
    """Put ``item`` on the queue, with the secrets read since the last hand-over;
    False when the parent has gone away meanwhile."""
    global _known
    fresh, _known = registered_since(_known)
    while True:
        try:
            handover.put((fresh, item), timeout=_POLL)
            return True
        except queue.Full:
            if os.getppid() != parent:
                return False


def _portable(exc: Exception) -> Exception:
    """``exc`` if it survives a pickle round trip, else a plain error saying what it was."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        log.debug("read-ahead failure is not picklable: %r", type(exc))
        return RuntimeError(redact(f"{type(exc).__name__}: {exc}"))
