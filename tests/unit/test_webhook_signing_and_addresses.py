"""Webhooks' pure parts: the signature a receiver checks, the addresses production refuses,
and the waits between tries."""

import hashlib
import hmac
import ipaddress
from datetime import UTC, datetime, timedelta

import pytest

from ucap_reporting.config import Settings
from ucap_reporting.webhooks.addresses import EndpointRefused, check_url, destination, public
from ucap_reporting.webhooks.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    new_secret,
    signed_headers,
    verify,
)
from ucap_reporting.webhooks.worker import next_try

BODY = b'{"kind":"status_changed"}'


class TestSigning:
    def test_the_signature_is_hmac_sha256_of_timestamp_dot_body(self) -> None:
        headers = signed_headers("whsec_s", "d1", "status_changed", BODY, now=1_700_000_000.7)

        expected = hmac.new(b"whsec_s", b"1700000000." + BODY, hashlib.sha256).hexdigest()
        assert headers[TIMESTAMP_HEADER] == "1700000000"
        assert headers[SIGNATURE_HEADER] == f"v1={expected}"

    def test_a_receiver_refuses_another_body_secret_or_a_stale_timestamp(self) -> None:
        headers = signed_headers("whsec_s", "d1", "status_changed", BODY, now=1000.0)

        assert verify("whsec_s", headers, BODY, now=1100.0)
        assert not verify("whsec_s", headers, BODY + b" ", now=1100.0)
        assert not verify("whsec_other", headers, BODY, now=1100.0)
        assert not verify("whsec_s", headers, BODY, now=1000.0 + 301)

    def test_secrets_differ(self) -> None:
        assert len({new_secret() for _ in range(100)}) == 100


class TestAddresses:
    @pytest.mark.parametrize(
        "address",
        ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
         "0.0.0.0", "::1", "fc00::1", "fe80::1", "::ffff:10.0.0.1", "224.0.0.1"],
    )  # fmt: skip
    def test_loopback_private_link_local_and_the_like_are_not_public(self, address: str) -> None:
        assert not public(ipaddress.ip_address(address))

    @pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::1111"])
    def test_internet_addresses_are_public(self, address: str) -> None:
        assert public(ipaddress.ip_address(address))

    @pytest.mark.parametrize(
        "url", ["ftp://example.org/x", "https://user:pw@example.org/x", "https:///x"]
    )
    def test_a_malformed_endpoint_is_refused_everywhere(self, url: str) -> None:
        with pytest.raises(EndpointRefused):
            check_url(url, production=False)

    async def test_development_allows_plain_http_to_loopback(self) -> None:
        target = await destination("http://127.0.0.1:9/hooks", production=False)
        assert (str(target.url), target.host_header) == ("http://127.0.0.1:9/hooks", "127.0.0.1:9")

    async def test_production_takes_https_to_a_public_address(self) -> None:
        target = await destination("https://93.184.215.14:8443/hooks?x=1", production=True)
        assert str(target.url) == "https://93.184.215.14:8443/hooks?x=1"
        assert target.sni_hostname is None

    @pytest.mark.parametrize(
        "url", ["http://93.184.215.14/hooks", "https://localhost/hooks", "https://[fe80::1]/x"]
    )
    async def test_production_refuses_plain_http_and_inward_addresses(self, url: str) -> None:
        with pytest.raises(EndpointRefused):
            await destination(url, production=True)

    async def test_a_name_is_connected_to_by_its_checked_address(self) -> None:
        target = await destination("http://localhost:9/hooks", production=False)
        assert target.url.host in {"127.0.0.1", "::1"}
        assert (target.host_header, target.sni_hostname) == ("localhost:9", "localhost")


class TestRetryTimes:
    SETTINGS = Settings.model_validate(
        {
            "webhook_max_attempts": 6,
            "webhook_first_retry_seconds": 1,
            "webhook_max_retry_seconds": 4,
        }
    )
    NOW = datetime(2026, 1, 1, tzinfo=UTC)

    @pytest.mark.parametrize(("failed", "bound"), [(1, 1), (2, 2), (3, 4), (5, 4)])
    def test_each_wait_is_jittered_under_a_doubling_bound(self, failed: int, bound: int) -> None:
        waits = {next_try(failed, self.SETTINGS, self.NOW) for _ in range(50)}

        assert all(
            w is not None and self.NOW <= w <= self.NOW + timedelta(seconds=bound) for w in waits
        )
        assert len(waits) > 1

    def test_no_retry_after_the_last_try(self) -> None:
        assert next_try(6, self.SETTINGS, self.NOW) is None
