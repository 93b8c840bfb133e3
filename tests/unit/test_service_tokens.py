"""The gateway sends a caller's token to a service for a while; a service verifies it once."""

import time

import jwt
import pytest

from ucap_shared.auth import (
    InvalidTokenError,
    Principal,
    Role,
    ServiceTokens,
    VerifiedTokens,
    issue_token,
)

KEY = "a-signing-key-of-the-tests-long-enough-for-hs256"
GRANADA = Principal(subject="city:granada", city_id="granada", roles=frozenset({Role.PUBLISHER}))
KUNMING = Principal(subject="city:kunming", city_id="kunming", roles=frozenset({Role.PUBLISHER}))


class Clock:
    """Seconds since the epoch, starting at the whole second now (tokens say whole seconds)."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


class TestServiceTokens:
    def test_a_caller_gets_the_same_token_until_half_its_lifetime_has_passed(self) -> None:
        clock = Clock()
        tokens = ServiceTokens(key=KEY, ttl_seconds=60, clock=clock)
        first = tokens.for_caller(GRANADA, "pilots")

        clock.now += 29
        assert tokens.for_caller(GRANADA, "pilots") == first
        clock.now += 1
        renewed = tokens.for_caller(GRANADA, "pilots")

        assert renewed != first
        claims = jwt.decode(
            renewed,
            KEY,
            algorithms=["HS256"],
            audience="pilots",
            options={"verify_exp": False, "verify_iat": False},
        )
        assert claims["exp"] - clock.now == 60

    def test_each_caller_and_service_has_its_own(self) -> None:
        tokens = ServiceTokens(key=KEY, ttl_seconds=60, clock=Clock())

        issued = {
            tokens.for_caller(GRANADA, "pilots"),
            tokens.for_caller(GRANADA, "reporting"),
            tokens.for_caller(KUNMING, "pilots"),
            tokens.for_caller(GRANADA.model_copy(update={"roles": frozenset()}), "pilots"),
        }

        assert len(issued) == 4
        verified = VerifiedTokens(audience="pilots", key=KEY)
        assert verified.verify(tokens.for_caller(KUNMING, "pilots")) == KUNMING

    def test_it_keeps_at_most_its_capacity(self) -> None:
        clock = Clock()
        tokens = ServiceTokens(key=KEY, ttl_seconds=60, capacity=2, clock=clock)
        first = tokens.for_caller(GRANADA, "pilots")
        kept = tokens.for_caller(GRANADA, "mous")
        tokens.for_caller(GRANADA, "cities")
        clock.now += 1

        assert tokens.for_caller(GRANADA, "pilots") != first, "let go: issued again"
        assert tokens.for_caller(GRANADA, "mous") != kept, "let go for the one issued again"


class TestVerifiedTokens:
    def test_a_token_seen_again_is_not_decoded_again(self, monkeypatch: pytest.MonkeyPatch) -> None:
        clock = Clock()
        token = issue_token(GRANADA, audience="pilots", key=KEY, now=int(clock.now))
        verified = VerifiedTokens(audience="pilots", key=KEY, clock=clock)
        decodes: list[str] = []
        decode = jwt.decode

        def counted(*args: object, **kwargs: object) -> object:
            decodes.append("decoded")
            return decode(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(jwt, "decode", counted)

        assert verified.verify(token) == GRANADA
        assert verified.verify(token) == GRANADA
        assert decodes == ["decoded"]

    def test_a_known_token_past_its_expiry_is_refused(self) -> None:
        clock = Clock()
        token = issue_token(GRANADA, audience="pilots", key=KEY, ttl_seconds=60, now=int(clock.now))
        verified = VerifiedTokens(audience="pilots", key=KEY, clock=clock)
        verified.verify(token)

        clock.now += 60
        with pytest.raises(InvalidTokenError, match="expired"):
            verified.verify(token)

    def test_a_token_for_another_service_is_refused(self) -> None:
        verified = VerifiedTokens(audience="pilots", key=KEY)

        with pytest.raises(InvalidTokenError, match=r"[Aa]udience"):
            verified.verify(issue_token(GRANADA, audience="reporting", key=KEY))

    def test_the_same_claims_signed_with_another_key_are_refused_after_the_good_token(
        self,
    ) -> None:
        clock = Clock()
        verified = VerifiedTokens(audience="pilots", key=KEY, clock=clock)
        good = issue_token(GRANADA, audience="pilots", key=KEY, now=int(clock.now))
        forged = issue_token(GRANADA, audience="pilots", key=KEY + "-not-it", now=int(clock.now))
        verified.verify(good)

        with pytest.raises(InvalidTokenError, match=r"[Ss]ignature"):
            verified.verify(forged)
