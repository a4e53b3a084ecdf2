"""Log lines for collectors: one JSON object each, redacted like the text lines."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterator

import pytest

from agent.logs import setup
from agent.redact import register_secret


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)


@pytest.mark.usefixtures("restore_root_logger")
def test_json_lines_carry_fields_and_a_redacted_message(capsys: pytest.CaptureFixture[str]) -> None:
    setup(1, log_format="json")
    register_secret("ya29.planted-access-token")
    logging.getLogger("autocapture.sync").info("refreshed %s", "ya29.planted-access-token")
    try:
        raise ValueError("password=hunter22 rejected")
    except ValueError:
        logging.getLogger("autocapture.sync").exception("login failed")
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in _records(err)]
    assert [(x["level"], x["logger"]) for x in lines] == [
        ("INFO", "autocapture.sync"),
        ("ERROR", "autocapture.sync"),
    ]
    assert lines[0]["message"] == "refreshed ***"
    assert lines[1]["message"].startswith("login failed\nTraceback")
    assert "hunter22" not in err and "planted-access-token" not in err
    assert set(lines[0]) == {"time", "level", "logger", "thread", "message"}


def _records(stream: str) -> list[str]:
    """Each record is one line: newlines inside a message are escaped by JSON."""
    return [line for line in stream.splitlines() if line]


@pytest.mark.usefixtures("restore_root_logger")
def test_text_is_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    setup(1)
    logging.getLogger("autocapture.run").info("polling %d accounts", 2)
    assert capsys.readouterr().err.rstrip().endswith("INFO autocapture.run: polling 2 accounts")


@pytest.mark.usefixtures("restore_root_logger")
def test_a_librarys_warning_is_a_redacted_log_line(capsys: pytest.CaptureFixture[str]) -> None:
    setup(0, log_format="json")
    register_secret("planted-refresh-token-9")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("retrying with planted-refresh-token-9", UserWarning, stacklevel=1)
    err = capsys.readouterr().err
    [line] = [json.loads(line) for line in _records(err)]
    assert (line["level"], line["logger"]) == ("WARNING", "py.warnings")
    assert "UserWarning: retrying with ***" in line["message"]
    assert "planted-refresh-token-9" not in err
