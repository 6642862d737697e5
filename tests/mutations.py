"""Mutations every strategy's certificate must survive or be rejected by: shared by the
strategies' test files (each calls them on a certificate of its own strategy)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from checker.errors import CertificateError
from checker.load import load_certificate_obj
from checker.verify import check_certificate


def assert_claim_plus_one_fails(obj: dict[str, Any]) -> None:
    """The certificate's own claim holds, and the same certificate claiming one more fails with
    the same certified count (a claim is compared with the count, never believed)."""
    ok = check_certificate(load_certificate_obj(obj, "<ok>"))
    assert ok.ok and ok.certified == obj["claim"]["certified_count"]
    bad = copy.deepcopy(obj)
    bad["claim"]["certified_count"] += 1
    verdict = check_certificate(load_certificate_obj(bad, "<bad>"))
    assert not verdict.ok and verdict.certified == ok.certified


def assert_weight_change_without_new_hash_is_rejected(obj: dict[str, Any]) -> None:
    """Changing one weight mantissa without recomputing weights_sha256 is refused at loading."""
    bad = copy.deepcopy(obj)
    row = bad["weights"]["W_U"]["mantissas"][0]
    row[0] = row[0] + 1 if isinstance(row[0], int) else str(int(row[0]) + 1)
    with pytest.raises(CertificateError) as e:
        load_certificate_obj(bad, "<bad>")
    assert e.value.field == "weights_sha256"
