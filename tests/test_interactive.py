"""The interactive gate (Turnstile's checkbox in a cross-site iframe): the replica's widget judges how it is
clicked; both drivers click it like a hand in their default mode; plain Playwright does not get through."""

from __future__ import annotations

import random
from typing import Any

import pytest

from aura_browser.drivers import hand
from aura_browser.drivers.browser_path import find_chromium
from aura_browser.drivers.checkbox import MAX_CLICKS, WidgetBySight, is_challenge_frame, known_checkbox, read_widget
from aura_browser.replica.interactive import CHECKS, judge

from tests.support.botcheck import server_env
from tests.support.cli import assert_one_line_error, err, out, run_cli
from tests.support.drivers import DRIVERS, needs_xvfb

BOX = [17.0, 19.0, 41.0, 43.0]  # the widget's checkbox, in its frame: left, top, right, bottom
FRAME = (300, 65)  # the widget's size
FAST_WIDGET = {"interactive_delay": 1.0}


def _hand_click(rng: random.Random) -> tuple[list[dict[str, Any]], float]:
    """The events hand.py's moves make in the widget, from outside it to the box; and when the box showed."""
    target = hand.Box(BOX[0], BOX[1], BOX[2] - BOX[0], BOX[3] - BOX[1])
    aim = hand.aim(target, rng)
    start = hand.Point(rng.uniform(-300, 900), rng.uniform(-400, 500))  # anywhere around the widget
    shown = 1000.0
    t = shown + hand.reaction_time(rng) * 1000
    events = []
    for step in hand.path(start, aim, rng) + hand.settle(aim, rng):
        t += step.pause * 1000
        if 0 <= step.x < FRAME[0] and 0 <= step.y < FRAME[1]:  # the widget sees only the moves over its frame
            events.append({"type": "mousemove", "t": t, "x": step.x, "y": step.y, "trusted": True})
    release = t + hand.press_time(rng) * 1000
    events += [{"type": "mousedown", "t": t, "x": aim.x, "y": aim.y, "trusted": True},
               {"type": "mouseup", "t": release, "x": aim.x, "y": aim.y, "trusted": True},
               {"type": "click", "t": release, "x": aim.x, "y": aim.y, "trusted": True}]
    return events, shown


def _failing(rows: list[dict[str, Any]]) -> set[str]:
    return {row["id"] for row in rows if not row["pass"]}


@pytest.mark.parametrize("seed", range(200))
def test_a_hands_path_and_timing_pass_every_check_of_the_widget(seed):
    events, shown = _hand_click(random.Random(seed))
    rows = judge(events, BOX, shown)
    assert {row["id"] for row in rows} == set(CHECKS)
    assert not _failing(rows), rows


def test_a_ruler_straight_evenly_paced_instant_click_fails_the_widget():
    """What a script sends by default: ten even steps on a straight line, then a press released at once."""
    events = [{"type": "mousemove", "t": 2000.0 + 10 * i, "x": 200 - 17 * i, "y": 31.0, "trusted": True} for i in range(11)]
    events += [{"type": "mousedown", "t": 2101.0, "x": 30.0, "y": 31.0, "trusted": True},
               {"type": "mouseup", "t": 2102.0, "x": 30.0, "y": 31.0, "trusted": True},
               {"type": "click", "t": 2102.0, "x": 30.0, "y": 31.0, "trusted": True}]
    assert _failing(judge(events, BOX, 1000.0)) == {"trail", "hover", "press"}


def test_an_untrusted_click_outside_the_box_too_soon_fails_the_widget():
    events, _shown = _hand_click(random.Random(1))
    for event in events[-3:]:
        event.update(trusted=False, x=60.0)
    assert _failing(judge(events, BOX, events[-3]["t"] - 100)) >= {"trusted", "inside", "reaction"}


def test_turnstiles_frames_are_recognised_by_host_or_path_not_by_the_replicas_ids():
    assert is_challenge_frame("https://challenges.cloudflare.com/cdn-cgi/challenge-platform/h/b/turnstile/if/ov2/x")
    assert is_challenge_frame("http://localhost:4000/cdn-cgi/challenge-platform/h/g/turnstile/if/ov2/av0/y")
    assert not is_challenge_frame("https://example.com/embed?next=/cdn-cgi/challenge-platform/")
    assert not is_challenge_frame("about:blank")


# --- the replica's widget in a real browser ---------------------------------------------


async def _plain_playwright_page(replica) -> tuple[Any, Any, Any]:
    """Plain Playwright (not patchright), headless, on the challenge page; and the widget's frame once it shows."""
    from playwright.async_api import async_playwright

    manager = await async_playwright().start()
    browser = await manager.chromium.launch(executable_path=find_chromium(), headless=True)
    page = await browser.new_page()
    await page.goto(replica.url + "/")
    return manager, browser, page


def _widget_frame(page: Any) -> Any:
    return next(frame for frame in page.frames if is_challenge_frame(frame.url))


async def _checkbox_box(page: Any) -> dict[str, float]:
    """Where the checkbox is in the page, once the widget shows it (CDP reaches into its closed shadow root)."""
    frame = _widget_frame(page)
    frame_box = await (await frame.frame_element()).bounding_box()
    session = await page.context.new_cdp_session(frame)
    try:
        for _ in range(200):
            document = (await session.send("DOM.getDocument", {"depth": -1, "pierce": True}))["root"]
            found = _find_checkbox(document)
            if found is not None:
                quad = (await session.send("DOM.getBoxModel", {"backendNodeId": found}))["model"]["content"]
                return {"x": frame_box["x"] + quad[0], "y": frame_box["y"] + quad[1], "width": quad[2] - quad[0],
                        "height": quad[5] - quad[1]}
            await frame.wait_for_timeout(50)  # the widget's own "Verifying..." time; polled, not slept through
    finally:
        await session.detach()
    raise AssertionError("the widget never showed its checkbox")


def _find_checkbox(node: dict[str, Any]) -> int | None:
    attributes = node.get("attributes", [])
    if node.get("nodeName") == "INPUT" and "checkbox" in attributes:
        return node["backendNodeId"]
    for child in [*node.get("shadowRoots", []), *node.get("children", [])]:
        found = _find_checkbox(child)
        if found is not None:
            return found
    return None


async def test_the_widget_is_a_cross_site_frame_whose_checkbox_no_selector_of_the_page_reaches(make_replica):
    replica = make_replica(gate="interactive", **FAST_WIDGET)
    manager, browser, page = await _plain_playwright_page(replica)
    try:
        box = await _checkbox_box(page)
        frame = _widget_frame(page)
        page_host, widget_host = page.url.split("/")[2].split(":")[0], frame.url.split("/")[2].split(":")[0]
        assert {page_host, widget_host} == {"127.0.0.1", "localhost"}  # another site, not only another origin
        assert box["width"] > 0
        assert await frame.evaluate("document.querySelector('input')") is None  # a closed shadow root
        assert await frame.evaluate("document.getElementById('content').shadowRoot") is None
    finally:
        await browser.close()
        await manager.stop()


async def test_plain_playwrights_mouse_click_on_the_box_fails_the_widget(make_replica):
    replica = make_replica(gate="interactive", **FAST_WIDGET)
    manager, browser, page = await _plain_playwright_page(replica)
    try:
        box = await _checkbox_box(page)
        await page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        assert replica.stats.wait_until(lambda s: s.interactive_failed == 1, 10)
        assert _failing(replica.stats.last_interactive) >= {"trail", "hover", "press"}
        session = await page.context.new_cdp_session(_widget_frame(page))
        view = await read_widget(session.send)
        for _ in range(100):  # the widget shows its verdict a moment after the replica's answer
            if view.failed:
                break
            await page.wait_for_timeout(50)
            view = await read_widget(session.send)
        assert view.failed and view.retry is not None and "Verification failed" in view.text
    finally:
        await browser.close()
        await manager.stop()
    assert replica.stats.clearances_issued == 0 and replica.stats.interactive_passed == 0


async def test_a_straight_instant_click_sent_over_cdp_fails_the_widget(make_replica):
    replica = make_replica(gate="interactive", **FAST_WIDGET)
    manager, browser, page = await _plain_playwright_page(replica)
    try:
        box = await _checkbox_box(page)
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        session = await page.context.new_cdp_session(page)
        for i in range(10, -1, -1):  # ten even steps along a line, as fast as CDP goes
            await session.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x + 20 * i, "y": y})
        for kind in ("mousePressed", "mouseReleased"):
            await session.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})
        assert replica.stats.wait_until(lambda s: s.interactive_failed == 1, 10)
        assert _failing(replica.stats.last_interactive) >= {"trail", "press"}
    finally:
        await browser.close()
        await manager.stop()
    assert replica.stats.clearances_issued == 0


async def test_plain_playwright_that_only_waits_never_gets_past_the_widget(make_replica):
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    replica = make_replica(gate="interactive", **FAST_WIDGET)
    manager, browser, page = await _plain_playwright_page(replica)
    try:
        await _checkbox_box(page)
        with pytest.raises(PlaywrightTimeout):
            await page.wait_for_selector("textarea.m-0", timeout=4000)  # the app never comes
    finally:
        await browser.close()
        await manager.stop()
    assert replica.stats.clearances_issued == 0 and replica.stats.interactive_passed == 0


# --- the drivers' solver, end to end --------------------------------------------------------


@needs_xvfb
@pytest.mark.parametrize("driver", DRIVERS)
def test_default_login_without_display_clicks_through_the_interactive_gate_then_ask_goes_direct(make_replica, tmp_path, driver):
    replica = make_replica(gate="interactive", **FAST_WIDGET)
    env = {**server_env(), "AURA_PROFILE_DIR": str(tmp_path)}
    login = run_cli("login", "--driver", driver, "--base-url", replica.url, "--login-timeout", "60", env=env)
    assert login.returncode == 0, err(login)
    assert replica.stats.interactive_passed == 1, replica.stats.last_interactive
    assert replica.stats.clearances_issued == 1
    ask = run_cli("ask", "--base-url", replica.url, "--transport", "direct", "Hi", env=env)
    assert ask.returncode == 0, err(ask)
    assert out(ask).strip()
    assert "cf_clearance" in replica.stats.chat_cookies[-1]
    assert replica.stats.clearances_issued == 1  # no second login: the direct request used the cookie


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_headless_login_clicks_through_the_interactive_gate_with_devtools_input(make_replica, tmp_path, driver):
    replica = make_replica(gate="interactive", **FAST_WIDGET)
    env = {**server_env(), "AURA_PROFILE_DIR": str(tmp_path)}
    login = run_cli("login", "--headless", "--driver", driver, "--base-url", replica.url, "--login-timeout", "60", env=env)
    assert login.returncode == 0, err(login)
    assert replica.stats.interactive_passed == 1, replica.stats.last_interactive


@needs_xvfb
def test_a_widget_that_refuses_every_click_ends_the_login_with_a_one_line_error_asking_for_a_person(make_replica, tmp_path):
    replica = make_replica(gate="interactive", interactive_refuse=True, **FAST_WIDGET)
    env = {**server_env(), "AURA_PROFILE_DIR": str(tmp_path)}
    login = run_cli("login", "--base-url", replica.url, "--login-timeout", "90", env=env)
    assert_one_line_error(login, 3, "wants a person", "login --headed")
    assert replica.stats.interactive_failed == MAX_CLICKS
    assert replica.stats.clearances_issued == 0


@needs_xvfb
def test_doctor_and_the_in_page_fallbacks_browser_click_through_the_same_widget(make_replica, tmp_path):
    replica = make_replica(gate="interactive", **FAST_WIDGET)
    env = {**server_env(), "AURA_PROFILE_DIR": str(tmp_path), "AURA_LOGIN_TIMEOUT": "60"}
    doctor = run_cli("doctor", "--base-url", replica.url, "--skip-in-page", env=env)
    assert doctor.returncode == 0, out(doctor) + err(doctor)
    assert replica.stats.interactive_passed == 1, replica.stats.last_interactive
    replica.revoke_clearances()  # the saved cookie is now refused: the page's browser meets the widget again
    ask = run_cli("ask", "--base-url", replica.url, "--transport", "page", "Hi", env=env)
    assert ask.returncode == 0, err(ask)
    assert out(ask).strip()
    assert replica.stats.interactive_passed == 2, replica.stats.last_interactive


def test_a_widget_watched_by_sight_is_clicked_once_its_look_changed_and_kept_still():
    """For the selenium driver, which cannot reach the widget's frame: "Verifying..." must give way first."""
    sight = WidgetBySight()
    assert not sight.ready("blank", 0.0)
    assert not sight.ready("verifying", 0.2)  # a change: the widget is alive
    assert not sight.ready("verifying", 2.0)  # still, but "Verifying..." may last a second or two
    assert not sight.ready("checkbox", 2.1)  # a change again: wait until it keeps still
    assert not sight.ready("checkbox", 2.4)
    assert sight.ready("checkbox", 2.7)
    assert sight.in_sight(2.7) == pytest.approx(0.6)  # the checkbox showed at the last change
    sight.reset()
    assert not sight.ready("same", 0.0) and not sight.ready("same", 7.0)  # never changed: only after the limit
    assert sight.ready("same", 8.1)


@pytest.mark.parametrize("in_sight", [0.0, 0.2, 0.4, 0.6, 1.0])
def test_the_hand_starts_a_persons_reaction_after_the_box_showed_not_after_it_was_made_sure_of(in_sight):
    """By sight the checkbox is clicked only once it has kept still a while: the reaction counts from when it
    showed, so the hand waits what is left of it, and never starts sooner than a person's reaction."""
    for seed in range(200):
        reaction = hand.reaction_time(random.Random(seed))
        assert in_sight + hand.reaction_left(random.Random(seed), in_sight) == pytest.approx(max(in_sight, reaction))


def test_turnstiles_known_checkbox_place_is_inside_the_replicas_box():
    box = known_checkbox(hand.Box(0, 0, *FRAME))
    left, top, right, bottom = BOX
    assert left <= box.left + box.width * 0.25 and box.left + box.width * 0.75 <= right  # hand.aim's inner half
    assert top <= box.top + box.height * 0.25 and box.top + box.height * 0.75 <= bottom
