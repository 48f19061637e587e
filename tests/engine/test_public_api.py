"""The small public API is pinned: a change here is a decision, not an accident."""

import subprocess
import sys

import pytest

import postroom
import postroom.sdk


@pytest.mark.fast
def test_package_api():
    assert sorted(postroom.__all__) == ["ConfigError", "ConnectorError", "Document", "DocumentError",
                                        "PostroomError", "__version__"]
    for name in postroom.__all__:
        assert getattr(postroom, name) is not None


@pytest.mark.fast
def test_sdk_api():
    assert sorted(postroom.sdk.__all__) == sorted([
        "AuthenticationFailed", "ConfigError", "ConnectionFailed", "Connector", "ConnectorError", "Document",
        "DocumentError", "DocumentProperty", "Failed", "OperationSession", "PostroomError", "RunContext", "SPOOL_THRESHOLD", "SentMail", "Settings",
        "TestReport", "secret_fields", "setting", "spool_directory",
        # issue 8: the typed contracts a connector sees
        "Journal", "JournalRecord", "ListeningSession", "WatermarkStore",
        # issue 10: settings written as value sources, resolved per document
        "VALUE_SOURCE_KINDS", "ValueSourceSetting", "check_value_source",
        # issue 9: a settings check names the field it refuses (forms show it there)
        "setting_error"])


def test_importing_the_cli_loads_nothing_heavy():
    code = ("import sys, postroom.cli; heavy = [m for m in ('sqlalchemy', 'pydantic', 'fastapi', 'uvicorn', "
            "'aiosmtpd', 'cryptography') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
