"""The HTTP process's side of the check process: start it, watch it, restart it, stop it in order.

See `gonogo.webhook.checks_process` for why the checks run in a process of their own and what the
bytes on its stdin mean. Here: the child is started when the server has started; `/healthz` says
ok only while it runs and has said it is ready; if it ends unexpectedly it is logged and started
again after a pause (doubling, capped), and its live gauges are dropped from `/metrics` (its
counters stay: they count what it did). `stop` asks for an orderly stop, waits the grace period,
then kills it; what it had not finished is still in the queue and runs again at the next start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from gonogo.webhook.checks_process import NUDGE, READY, STOP, Launch
from gonogo.webhook.settings import RetryPolicy

log = logging.getLogger("gonogo.webhook")

RESTART = RetryPolicy(initial_seconds=1.0, max_seconds=30.0)
_KILL_WAIT_SECONDS = 5.0


class ChecksProcess:
    """One check process at a time, supervised from a thread of the HTTP process."""

    def __init__(self, launch: Launch, *, metrics_dir: Path, restart: RetryPolicy = RESTART) -> None:
        self._launch = launch
        self._metrics_dir = metrics_dir
        self._restart = restart
        self._guard = threading.Lock()
        self._stopping = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        self._pipe: IO[bytes] | None = None
        self._ready = False
        self._thread = threading.Thread(target=self._supervise, name="gonogo-checks-supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def alive(self) -> bool:
        """True while the check process runs and has said its workers are running."""
        with self._guard:
            return self._ready and self._process is not None and self._process.poll() is None

    def nudge(self) -> None:
        """Tell the check process new jobs are in the inbox; never blocks, never fails the caller.

        If the byte cannot be written (the pipe is full, the process is restarting), the check
        process finds the jobs at its next poll of the inbox, within a second.
        """
        with self._guard:
            pipe = self._pipe
            if pipe is None:
                return
            with contextlib.suppress(OSError):
                os.write(pipe.fileno(), NUDGE)

    def stop(self, grace: float) -> None:
        """Ask for an orderly stop, wait `grace` seconds (plus a little), then kill."""
        self._stopping.set()
        process = self._stop_request()
        if process is not None:
            try:
                process.wait(grace + _KILL_WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                log.warning("the check process did not stop in time; killing it")
                process.kill()
                process.wait()
        self._thread.join(_KILL_WAIT_SECONDS)

    def _stop_request(self) -> subprocess.Popen[bytes] | None:
        """Send `s` and close the pipe (an orderly stop); the process it went to, if any."""
        with self._guard:
            process, pipe = self._process, self._pipe
            self._pipe = None
        if pipe is not None:
            try:
                pipe.write(STOP)
                pipe.flush()
            except OSError:
                pass
            finally:
                _close_quietly(pipe)
        return process

    def _supervise(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            process, ready = self._spawn()
            if ready:
                failures = 0
            status = process.wait()
            with self._guard:
                self._ready = False
                self._pipe = None
            self._forget_live_gauges(process.pid)
            if self._stopping.is_set():
                return
            failures = min(failures + 1, 32)
            delay = self._restart.delay(failures)
            log.error("the check process ended; restarting it", extra={"status": status, "retry_in_s": delay})
            if self._stopping.wait(delay):
                return

    def _spawn(self) -> tuple[subprocess.Popen[bytes], bool]:
        """Start a check process, send it its launch settings, wait until it says it is ready."""
        ready_read, ready_write = os.pipe()
        launch = Launch(
            settings=self._launch.settings,
            webhook=self._launch.webhook,
            today=self._launch.today,
            verbose=self._launch.verbose,
            ready_fd=ready_write,
        )
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(self._metrics_dir)}
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "gonogo.webhook.checks_process"],
                stdin=subprocess.PIPE,
                env=env,
                pass_fds=(ready_write,),
            )
        finally:
            os.close(ready_write)  # the child's copy is the only one left: its death ends the read
        assert process.stdin is not None
        try:
            process.stdin.write(launch.encode())
            process.stdin.flush()
        except OSError:
            pass  # it died already; `wait` in the caller sees it
        with self._guard:
            self._process, self._pipe = process, process.stdin
        if self._stopping.is_set():  # `stop` came while this one was starting
            self._stop_request()
        try:
            ready = _read_all(ready_read) == READY
        finally:
            os.close(ready_read)
        with self._guard:
            self._ready = ready and process.poll() is None
        if ready:
            log.info("check process ready", extra={"pid": process.pid})
            self.nudge()  # jobs stored while it started
        return process, ready

    def _forget_live_gauges(self, pid: int) -> None:
        from prometheus_client import multiprocess  # noqa: PLC0415

        multiprocess.mark_process_dead(pid, str(self._metrics_dir))  # type: ignore[no-untyped-call]


def _read_all(fd: int) -> bytes:
    data = b""
    while chunk := os.read(fd, 64):
        data += chunk
    return data


def _close_quietly(pipe: IO[bytes]) -> None:
    with contextlib.suppress(OSError):
        pipe.close()
