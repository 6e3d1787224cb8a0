"""A request's model, temperature and max_tokens are checked by wire/api.py's predicates for every face: the Python
client (build_body), a batch line and the OpenAI API accept and refuse the same values, each in its own words."""

import json

import pytest

from aura_browser.errors import InvalidRequest
from aura_browser.serve.api import parse_request
from aura_browser.tools.batch import parse_item
from aura_browser.wire.api import build_body

HI = [{"role": "user", "content": "Hi"}]


def client_refuses(**settings):
    try:
        build_body(HI, **settings)
    except InvalidRequest:
        return True
    return False


def batch_refuses(**settings):
    return parse_item(json.dumps({"id": 1, "prompt": "Hi", **settings}), 1).problem is not None


def api_refuses(**settings):
    try:
        parse_request({"model": "openchat_3.6", "messages": HI, **settings})
    except InvalidRequest:
        return True
    return False


@pytest.mark.parametrize("value, refused", [(0.5, False), (1, False), (None, False), (True, True), ("0.5", True),
                                            ([], True)])
def test_every_face_takes_the_same_temperatures(value, refused):
    assert client_refuses(temperature=value) == batch_refuses(temperature=value) == api_refuses(temperature=value) \
        == refused


@pytest.mark.parametrize("value, refused", [("openchat_3.6", False), ("other", False), ("", True), (3, True),
                                            (None, True)])
def test_every_face_takes_the_same_models(value, refused):
    assert client_refuses(model=value) == batch_refuses(model=value) == api_refuses(model=value) == refused


@pytest.mark.parametrize("value, refused", [(100, False), (True, True), (1.5, True), ("100", True)])
def test_the_client_and_batch_take_the_same_max_tokens(value, refused):
    assert client_refuses(max_tokens=value) == batch_refuses(max_tokens=value) == refused
