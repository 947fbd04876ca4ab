"""A SAS signature percent-encoded twice (a SAS URL inside a query inside a URL) is redacted, learned and found."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from pytest_runcommand.cassettes.sanitize import default_sanitizer
from pytest_runcommand.cassettes.scan import scan_interaction
from pytest_runcommand.interactions import Interaction

SIG = "Sentinel-Tw1ce-Sig"
SAS = f"https://a.blob.core.windows.net/c/b?sv=2022-11-02&sp=r&sig={SIG}&se=2030"


@pytest.mark.parametrize("times", [1, 2, 3])
def test_a_sas_signature_encoded_any_number_of_times_is_redacted_and_found(times: int) -> None:
    inner = SAS
    for _ in range(times):
        inner = quote(inner, safe="")
    url = f"https://management.azure.com/x?next={inner}"
    found = scan_interaction(Interaction("GET", url, {}, None, 200, {}, None), "here")
    assert "sas-signature" in {f.detector for f in found}
    sanitizer = default_sanitizer().fresh()
    clean = sanitizer.url(url)
    assert SIG not in clean
    assert "se%" in clean  # the fields after the signature are kept
    assert sanitizer.text(f"printed {SIG}") == "printed REDACTED"
    assert scan_interaction(Interaction("GET", clean, {}, None, 200, {}, None), "here") == []
