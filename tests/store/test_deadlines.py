"""graph.store.external.deadlines: actions run at their deadline, in deadline order, never once
forgotten, and in a forked worker too (gunicorn forks after the application is made)."""

from __future__ import annotations

import os
import signal
import threading
import time

from graph.store.external.deadlines import Deadlines


def test_actions_run_in_deadline_order_whatever_order_they_came_in() -> None:
    deadlines = Deadlines()
    ran: list[str] = []
    done = threading.Event()
    now = time.monotonic()
    deadlines.watch(now + 0.3, lambda: (ran.append("late"), done.set()))
    deadlines.watch(now + 0.05, lambda: ran.append("early"))  # wakes the sleeping thread
    assert done.wait(10)
    assert ran == ["early", "late"]


def test_a_forgotten_action_never_runs() -> None:
    deadlines = Deadlines()
    ran: list[str] = []
    done = threading.Event()
    now = time.monotonic()
    deadlines.forget(deadlines.watch(now + 0.05, lambda: ran.append("forgotten")))
    deadlines.watch(now + 0.1, done.set)
    assert done.wait(10)
    assert ran == []


def test_a_forked_process_runs_its_own_deadlines() -> None:
    deadlines = Deadlines()
    started = threading.Event()
    deadlines.watch(time.monotonic(), started.set)  # the parent's thread is running
    assert started.wait(10)
    child = os.fork()
    if child == 0:  # the child has no thread until it watches something
        fired = threading.Event()
        deadlines.watch(time.monotonic() + 0.01, fired.set)
        os._exit(0 if fired.wait(10) else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_process_forked_while_another_thread_watches_is_not_stuck_on_its_lock() -> None:
    deadlines = Deadlines()
    ran: list[str] = []
    with deadlines._wake:  # what a thread calling watch() holds for an instant
        deadlines.watch(time.monotonic() + 0.01, lambda: ran.append("parent's"))
        child = os.fork()
        if child == 0:
            signal.alarm(10)  # stuck on the copied lock: killed, exit status not 0
            fired = threading.Event()
            deadlines.watch(time.monotonic() + 0.01, fired.set)
            os._exit(0 if fired.wait(10) and not ran else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
