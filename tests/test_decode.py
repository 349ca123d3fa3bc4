"""JSON bodies: orjson first, the json module for what orjson refuses, an error for the rest."""

from __future__ import annotations

import pytest
import requests

from sqlgh.github.client import _decode
from sqlgh.github.errors import TransportError


def response(
    body: bytes, content_type: str = "application/json; charset=utf-8"
) -> requests.Response:
    made = requests.Response()
    made._content = body
    made.status_code = 200
    made.headers["Content-Type"] = content_type
    made.request = requests.Request("GET", "http://127.0.0.1/x").prepare()
    return made


def test_utf8_json_is_decoded() -> None:
    assert _decode(response('[{"name": "café", "id": 1}]'.encode()), "/x") == [
        {"name": "café", "id": 1}
    ]


def test_a_body_only_the_json_module_reads_is_still_decoded() -> None:
    # Latin-1 with its charset declared: not UTF-8, so orjson refuses it.
    body = '{"label": "café"}'.encode("latin-1")
    assert _decode(response(body, "application/json; charset=iso-8859-1"), "/x") == {
        "label": "café"
    }


def test_a_body_that_is_not_json_is_a_transport_error() -> None:
    with pytest.raises(TransportError, match="/x"):
        _decode(response(b'[{"name": "cut sh'), "/x")
