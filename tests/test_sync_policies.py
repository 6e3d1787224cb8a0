"""aura_browser.sync: each way of running async code from sync code keeps its policy (no browser needed)."""

import asyncio
import os
import signal
import threading

import pytest

from aura_browser.errors import WrongEventLoop
from aura_browser.sync import (
    SessionLoop,
    Terminated,
    iterate_in_private_loop,
    run_command,
    run_in_private_loop,
    run_in_worker_thread,
)


async def signalled_then_waiting(signum, cleaned):
    try:
        os.kill(os.getpid(), signum)
        await asyncio.Event().wait()  # only the signal ends this
    finally:
        cleaned.append(signum)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_command_ended_by_a_signal_cleans_up_then_raises_terminated(signum):
    cleaned = []
    with pytest.raises(Terminated) as caught:
        run_command(signalled_then_waiting(signum, cleaned))
    assert caught.value.signum == signum and cleaned == [signum]
    assert signal.getsignal(signum) == signal.SIG_DFL


def test_ctrl_c_in_a_session_cancels_that_work_only_and_the_loop_goes_on():
    cleaned = []
    session = SessionLoop()
    try:
        with pytest.raises(asyncio.CancelledError):
            session.run_interruptible(signalled_then_waiting(signal.SIGINT, cleaned))
        assert cleaned == [signal.SIGINT]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        assert session.run(asyncio.sleep(0, "still usable")) == "still usable"
    finally:
        session.close()


def test_sigterm_in_a_session_cancels_the_work_then_raises_terminated_and_at_the_prompt_too():
    cleaned = []
    session = SessionLoop()
    before = signal.getsignal(signal.SIGTERM)
    try:
        with session.ending_signals_raise():
            with pytest.raises(Terminated):
                session.run_interruptible(signalled_then_waiting(signal.SIGTERM, cleaned))
            assert cleaned == [signal.SIGTERM]
            with pytest.raises(Terminated):  # between replies: where the session waits
                os.kill(os.getpid(), signal.SIGTERM)
                threading.Event().wait(5)
        assert signal.getsignal(signal.SIGTERM) == before
    finally:
        session.close()


async def test_from_a_running_loop_run_in_private_loop_uses_a_worker_thread_and_iterating_is_refused():
    async def thread_name():
        return threading.current_thread().name

    assert run_in_private_loop(thread_name()).startswith("aura-sync")

    async def chunks():
        yield "x"

    with pytest.raises(WrongEventLoop, match="use the async way"):
        next(iterate_in_private_loop(chunks(), what="this", instead="the async way"))


def test_without_a_running_loop_run_in_private_loop_stays_in_this_thread_and_a_worker_thread_never_does():
    async def thread_name():
        return threading.current_thread().name

    assert run_in_private_loop(thread_name()) == threading.current_thread().name
    assert run_in_worker_thread(thread_name()).startswith("aura-sync")
