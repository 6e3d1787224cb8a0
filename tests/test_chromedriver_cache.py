"""The patched chromedriver runs as the user, so its cached copy is used only where nobody else could have put it
or changed it: a cache another user can write is refused, a copy that is not ours (or was truncated or changed)
is made anew, privately."""

import hashlib
import os
import stat
from pathlib import Path

import pytest

from aura_browser.drivers.chromedriver import CDC_BLOCK, patched_chromedriver
from aura_browser.errors import BrowserError

PLANTED = b"#!/bin/sh\ntouch \"$0.ran\"\n"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def find_chromedriver() -> str:
    # Imported here: test_error_outcomes walks the error classes loaded when it is collected.
    from aura_browser.drivers.selenium import find_chromedriver

    return find_chromedriver()


def made_copy() -> Path:
    return Path(patched_chromedriver(find_chromedriver()))


def assert_ours_and_whole(copy: Path) -> None:
    status = copy.lstat()
    assert stat.S_ISREG(status.st_mode) and status.st_uid == os.geteuid() and stat.S_IMODE(status.st_mode) == 0o700
    content = copy.read_bytes()
    assert content != PLANTED and CDC_BLOCK.search(content) is None
    assert len(content) == os.path.getsize(os.path.realpath(find_chromedriver()))
    assert not [p for p in copy.parent.iterdir() if p.name.startswith(".")]  # no temp file left


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757])
def test_a_cache_others_can_write_is_refused_and_nothing_there_runs(cache, mode):
    copy = made_copy()
    copy.write_bytes(PLANTED)  # what another user with write access to the folder could do
    for folder in (cache, copy.parent):
        before = stat.S_IMODE(folder.stat().st_mode)
        folder.chmod(mode)
        with pytest.raises(BrowserError, match=f"{folder} is writable by .*XDG_CACHE_HOME"):
            made_copy()
        folder.chmod(before)
    assert copy.read_bytes() == PLANTED


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user takes root")
def test_a_cache_folder_owned_by_another_user_is_refused(cache):
    made_copy()
    os.chown(cache, 54321, -1)
    with pytest.raises(BrowserError, match="owned by another user .uid 54321."):
        made_copy()


@pytest.mark.parametrize("plant", ["other owner", "group writable", "link", "no record"])
def test_a_copy_that_is_not_our_private_file_is_replaced(cache, tmp_path, plant):
    copy = made_copy()
    if plant == "link":
        elsewhere = tmp_path / "elsewhere"
        elsewhere.write_bytes(PLANTED)
        elsewhere.chmod(0o700)
        copy.unlink()
        copy.symlink_to(elsewhere)
    else:
        copy.write_bytes(PLANTED)
        if plant == "other owner":
            if os.geteuid() != 0:
                pytest.skip("giving a file to another user takes root")
            os.chown(copy, 54321, -1)
        elif plant == "group writable":
            copy.chmod(0o770)
        else:  # a copy with no size and hash recorded beside it
            for record in copy.parent.glob("sha256-*"):
                record.unlink()
    assert made_copy() == copy
    assert_ours_and_whole(copy)


@pytest.mark.parametrize("damage", ["truncated", "changed", "emptied"])
def test_a_damaged_copy_is_made_anew(cache, damage):
    # A truncated copy once made every `--driver selenium` run exit 7 ("Status code was: -11"), forever.
    copy = made_copy()
    content = copy.read_bytes()
    if damage == "truncated":
        copy.write_bytes(content[: len(content) // 2])
    elif damage == "changed":
        copy.write_bytes(content[:-4] + b"\0\0\0\0" if not content.endswith(b"\0\0\0\0") else content[:-4] + b"xxxx")
    else:
        copy.write_bytes(b"")
    assert made_copy() == copy
    assert_ours_and_whole(copy)
    assert hashlib.sha256(copy.read_bytes()).digest() == hashlib.sha256(content).digest()
