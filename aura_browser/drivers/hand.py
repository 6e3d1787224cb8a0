"""How a hand moves a mouse: the path, pace and timings of one click, with no browser in sight.

A person's pointer does not jump, and does not glide along a ruler at an even speed: it leaves on a curve,
speeds up and slows down as it closes in (a minimum-jerk profile), trembles a little, rests on the target,
and holds the button for tens of milliseconds. Gates judge exactly that (DESIGN.md, "The interactive
challenge"). The numbers here are a person's: reaction 250-550 ms, hover 90-260 ms, press 60-160 ms.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

REACTION_S = (0.25, 0.55)  # from seeing the box to starting to move
HOVER_S = (0.09, 0.26)  # resting on the box before pressing
PRESS_S = (0.06, 0.16)  # the button held down
STEP_S = (0.006, 0.016)  # between two moves of the pointer; varied per step, so the pace is never even
CORRECTION_FROM_PX = 150.0  # a reach longer than this ends in a corrective movement
MIN_BOW_PX = (6.0, 10.0)  # how far the shortest movement bows off its chord, at least
JITTER_PX = 0.7  # the hand's tremor, perpendicular to the path (none on the last steps)


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Box:
    """A rectangle in CSS pixels of the page's viewport."""

    left: float
    top: float
    width: float
    height: float

    @property
    def center(self) -> Point:
        return Point(self.left + self.width / 2, self.top + self.height / 2)

    def moved(self, dx: float, dy: float) -> Box:
        return Box(self.left + dx, self.top + dy, self.width, self.height)


@dataclass(frozen=True)
class Step:
    """Move the pointer to (x, y) after `pause` seconds."""

    x: float
    y: float
    pause: float


def reaction_time(rng: random.Random) -> float:
    return rng.uniform(*REACTION_S)


def reaction_left(rng: random.Random, in_sight: float) -> float:
    """What is left of a person's reaction to a box that has been in sight for `in_sight` seconds already: the
    hand starts to move a reaction time after the box showed, not after we made sure that it had."""
    return max(0.0, reaction_time(rng) - in_sight)


def hover_time(rng: random.Random) -> float:
    return rng.uniform(*HOVER_S)


def press_time(rng: random.Random) -> float:
    return rng.uniform(*PRESS_S)


def aim(box: Box, rng: random.Random) -> Point:
    """Where in `box` the hand lands: near its middle, rarely dead centre (a Gaussian, kept to the inner half)."""
    def around(start: float, size: float) -> float:
        offset = max(-0.25, min(0.25, rng.gauss(0, 0.12)))
        return start + size * (0.5 + offset)

    return Point(around(box.left, box.width), around(box.top, box.height))


def approach_from(target: Box, viewport: tuple[float, float], rng: random.Random) -> Point:
    """Where a pointer that nobody has moved in this page plausibly is: somewhere right of and below `target`."""
    width, height = viewport
    x = min(width - 5, target.left + target.width + rng.uniform(120, 420))
    y = min(height - 5, max(5, target.top + target.height / 2 + rng.uniform(-40, 160)))
    return Point(x, y)


def path(start: Point, end: Point, rng: random.Random) -> list[Step]:
    """The moves from `start` to `end`: a curved, eased, slightly jittered path at a varying pace, ending on `end`.

    A long reach is two movements, as a person's is: a fast one that lands near the target, then a slower
    correction onto it (so the last stretch bends too, not only the start).
    """
    distance = math.dist((start.x, start.y), (end.x, end.y))
    if distance <= CORRECTION_FROM_PX:
        return _movement(start, end, rng)
    angle = math.atan2(start.y - end.y, start.x - end.x) + rng.uniform(0.2, 0.6) * rng.choice((-1, 1))  # short of it
    reach = rng.uniform(30, 70)
    near = Point(end.x + math.cos(angle) * reach, end.y + math.sin(angle) * reach)
    return _movement(start, near, rng) + _movement(near, end, rng)


def _movement(start: Point, end: Point, rng: random.Random) -> list[Step]:
    distance = math.dist((start.x, start.y), (end.x, end.y))
    if distance < 1:
        return [Step(end.x, end.y, rng.uniform(*STEP_S))]
    # Fitts's law gives the time; the number of moves follows from a varying step interval.
    duration = (0.22 + 0.11 * math.log2(1 + distance / 24)) * rng.uniform(0.85, 1.2)
    count = max(12, int(duration / (sum(STEP_S) / 2)))
    # A cubic Bezier whose control points bow the path to one side, by 8-25% of its length; a short correction
    # bows by a few pixels at least (a wrist turns, it does not slide on a rail).
    ux, uy = (end.x - start.x) / distance, (end.y - start.y) / distance
    nx, ny = -uy, ux
    bow = max(rng.uniform(*MIN_BOW_PX), distance * rng.uniform(0.08, 0.25)) * rng.choice((-1, 1))
    c1 = Point(start.x + (end.x - start.x) * rng.uniform(0.2, 0.4) + nx * bow,
               start.y + (end.y - start.y) * rng.uniform(0.2, 0.4) + ny * bow)
    c2 = Point(start.x + (end.x - start.x) * rng.uniform(0.6, 0.85) + nx * bow * rng.uniform(0.3, 0.8),
               start.y + (end.y - start.y) * rng.uniform(0.6, 0.85) + ny * bow * rng.uniform(0.3, 0.8))
    steps = []
    for i in range(1, count + 1):
        t = i / count
        s = t * t * t * (10 - 15 * t + 6 * t * t)  # minimum jerk: slow start, fast middle, slow landing
        x, y = _bezier(start, c1, c2, end, s)
        if i < count - 2:
            tremor = rng.gauss(0, JITTER_PX)
            x, y = x + nx * tremor, y + ny * tremor
        steps.append(Step(x, y, duration / count * rng.uniform(0.6, 1.4)))
    steps[-1] = Step(end.x, end.y, steps[-1].pause)
    return steps


def settle(at: Point, rng: random.Random) -> list[Step]:
    """The hover: a rest of hover_time() on `at`, with a tremor of a pixel or so in the middle of it."""
    rest = hover_time(rng)
    return [Step(at.x + rng.uniform(-1, 1), at.y + rng.uniform(-1, 1), rest * 0.5), Step(at.x, at.y, rest * 0.5)]


def _bezier(p0: Point, p1: Point, p2: Point, p3: Point, s: float) -> tuple[float, float]:
    a, b, c, d = (1 - s) ** 3, 3 * (1 - s) ** 2 * s, 3 * (1 - s) * s * s, s ** 3
    return a * p0.x + b * p1.x + c * p2.x + d * p3.x, a * p0.y + b * p1.y + c * p2.y + d * p3.y
