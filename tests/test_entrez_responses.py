"""Response checks and esearch parsing on real NCBI answers (tests/fixtures/entrez)."""

from __future__ import annotations

from pathlib import Path

import pytest

from livingreview.errors import ConfigError
from livingreview.search.entrez import (
    EntrezClient,
    TransientError,
    check_xml_body,
    parse_esearch,
    redact,
)
from livingreview.search.replay import ReplayTransport

FIXTURES = Path(__file__).parent / "fixtures" / "entrez"


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_esearch_over_the_cap_keeps_history_and_count():
    result = parse_esearch(read("esearch2.xml"))
    assert result.count == 42249 and result.count > 9999
    assert result.webenv == "MCID_6927d6e7fee3e90f880ec190" and result.query_key == "1"
    assert len(result.ids) == 100 and result.ids[0] == "41297076"


def test_zero_hits_with_warning():
    result = parse_esearch(read("esearch8.xml"))
    assert result.count == 0 and result.ids == []
    assert result.query_translation == "(abcXYZ[All Fields])"
    assert any("No items found" in w for w in result.warnings)
    assert any("abcXYZ" in e for e in result.errors)


@pytest.mark.parametrize(
    "name, cause",
    [
        ("epost2.xml", "Invalid db name specified: nothing"),
        ("esummary8.xml", "Neither query_key nor id specified"),
        ("einfo4.xml", "truncated XML"),
        ("pubmed3.html", "HTML page instead of XML"),
    ],
)
def test_bad_bodies_are_transient_with_their_cause(name, cause):
    with pytest.raises(TransientError, match=cause):
        check_xml_body(read(name))


def test_good_bodies_pass():
    for name in ("esearch2.xml", "esearch8.xml", "pubmed1.xml", "pubmed7.xml"):
        check_xml_body(read(name))


def test_redact_removes_the_key_anywhere():
    assert redact("https://h/e.fcgi?api_key=K&db=pubmed") == "https://h/e.fcgi?db=pubmed"
    assert redact("https://h/e.fcgi?db=pubmed&api_key=K") == "https://h/e.fcgi?db=pubmed"
    assert "K1" not in redact("db=x&api_key=K1&term=y")


def test_live_mode_requires_email_and_tool():
    with pytest.raises(ConfigError, match="entrez.email"):
        EntrezClient(email="", tool="lr")
    with pytest.raises(ConfigError, match="entrez.tool"):
        EntrezClient(email="a@b.org", tool="has space")
    EntrezClient(email="a@b.org", tool="lr")  # fine


def test_replay_needs_no_email_and_refuses_unknown_windows(tmp_path):
    (tmp_path / "index.json").write_text('{"esearch": [], "efetch_dir": "efetch"}')
    client = EntrezClient(transport=ReplayTransport(tmp_path))
    with pytest.raises(ConfigError, match="search.mode: live"):
        client.esearch("x", mindate="2021/10/31", maxdate="2030/01/01")
    assert client.request_count == 1  # not retried


def test_replay_without_index_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="index.json"):
        ReplayTransport(tmp_path / "missing")
