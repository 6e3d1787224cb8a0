"""When there is no display for a headed browser, the error says what is wrong with it: a DISPLAY on which
no X server answers, an X socket folder Xvfb cannot write, Chromium's own first reason (not its helpers'
"Broken pipe" as it goes)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.support.cli import assert_one_line_error, run_cli
from tests.support.drivers import needs_xvfb

DEAD_DISPLAY = ":4712"  # /tmp/.X11-unix/X4712: no X server there


@pytest.mark.parametrize("driver", ["playwright", "selenium"])
def test_headed_on_a_dead_display_says_no_x_server_answers_there(driver, tmp_path):
    assert not os.path.exists(f"/tmp/.X11-unix/X{DEAD_DISPLAY[1:]}")
    result = run_cli("login", "--driver", driver, "--headed", "--base-url", "http://127.0.0.1:1",
                     env={"DISPLAY": DEAD_DISPLAY, "AURA_PROFILE_DIR": str(tmp_path)})
    line = assert_one_line_error(result, 7, f"no X server answers on DISPLAY={DEAD_DISPLAY}",
                                 f"/tmp/.X11-unix/X{DEAD_DISPLAY[1:]}", "--headless")
    assert "install Xvfb" not in line and "Broken pipe" not in line


@needs_xvfb
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="a private read-only mount takes root")
def test_a_read_only_x11_socket_folder_is_named_as_why_xvfb_failed(tmp_path):
    # In a mount namespace of its own, so no other X server on the machine is touched.
    command = [sys.executable, "-m", "aura_browser", "login", "--driver", "selenium", "--base-url", "http://127.0.0.1:1"]
    result = subprocess.run(
        ["unshare", "--mount", "sh", "-c", 'mount -o bind,ro /tmp/.X11-unix /tmp/.X11-unix && exec "$@"', "sh", *command],
        capture_output=True, env={**os.environ, "AURA_PROFILE_DIR": str(tmp_path)}, timeout=120,
    )
    assert_one_line_error(result, 7, "Xvfb exited at start", "/tmp/.X11-unix is not writable (Read-only file system)")


# What Chromium 156 wrote when its X connection failed at start, as chromedriver's log holds it.
CHROMIUM_LOG = """\
[1796654555.093][INFO]: Launching chrome: /usr/lib/chromium/chromium --remote-debugging-pipe
[22755:22755:1207/144235.276050:ERROR:ui/ozone/platform/x11/ozone_platform_x11.cc:257] Missing X server or $DISPLAY
[22755:22755:1207/144235.276078:ERROR:ui/aura/env.cc:253] The platform failed to initialize.  Exiting.
[22765:22765:0100/000000.360052:ERROR:content/zygote/zygote_linux.cc:662] write: Broken pipe (32)
"""


def test_a_failed_start_names_chromiums_first_reason_not_its_helpers_last(tmp_path):
    # Imported here: test_error_outcomes walks the error classes loaded when it is collected.
    from aura_browser.drivers.selenium_local import launch_failure

    log = tmp_path / "chromedriver.log"
    log.write_text(CHROMIUM_LOG)
    reason = launch_failure("session not created: Chrome failed to start: exited abnormally.", str(log))
    assert reason == "session not created: Chrome failed to start: exited abnormally: Missing X server or $DISPLAY"
