"""Schemathesis against /openapi.json: no generated request may cause a 5xx."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from isdas.serve import create_app
from isdas.settings import Settings
from tests.serve.serve_fake import fill_catalog


def _app() -> object:
    folder = Path(tempfile.mkdtemp(prefix="isdas-schema-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    home = folder / "home"
    fill_catalog(Settings(home=home), days=3, sensors=2, ports=6)
    return create_app(Settings(home=home))


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.filterwarnings("ignore")
def test_no_server_errors(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=[not_a_server_error])
