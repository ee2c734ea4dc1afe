"""The shared conformance suite every sink connector's tests run (after Benthos'
``integration.StreamTestDefinitions``): named cases, one config template and one fake per
connector. No pytest here; a test module parametrises over ``case_names()``::

    SUITE = SinkConformance(spec=SPEC, fake=running_fake, invalid_configs=[({}, "url")])

    @pytest.mark.parametrize("case", SUITE.case_names())
    async def test_conformance(case: str) -> None:
        await SUITE.run(case)

The fake is a real local server speaking the back office's protocol (``ConformanceFake``).
A case fails with AssertionError saying what the connector did instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import ValidationError

from connectors.sdk.context import ConnectorContext, TenantInfo
from connectors.sdk.outcomes import Delivered, Permanent, Retryable, Throttled
from connectors.sdk.secrets import Secrets
from connectors.sdk.sink import Delivery, Health, Sink
from connectors.sdk.spec import SinkSpec
from contracts.cloudevents import CloudEvent, source_urn
from contracts.events import build_event
from contracts.registry import CONTRACTS, ContractSpec

__all__ = ["ConformanceFake", "SinkConformance"]

TENANT = TenantInfo(id="0363", oin="00000001002564440000", rsin="002564440")


class ConformanceFake(Protocol):
    """The connector's fake back office, running while the case runs."""

    def settings(self) -> dict[str, Any]:
        """Config settings that point the connector at this fake (merged over ``spec.example``)."""
        ...

    def fail_next(self, kind: Literal["retryable", "permanent"]) -> None:
        """Answer the next request with a failure of this kind (503 / 400 for HTTP)."""
        ...

    def effects(self) -> int:
        """How many things the back office made: a request repeating an idempotency key it has
        already taken counts once, as the back office's protocol promises."""
        ...


Case = Callable[["SinkConformance"], Awaitable[None]]


def _contract_for(spec: SinkSpec) -> ContractSpec:
    found = next((c for c in CONTRACTS if not c.family and spec.accepts_contract(c.type)), None)
    if found is None:
        raise AssertionError(f"{spec.name} accepts no single contract type; pass contract=")
    return found


@dataclass(frozen=True)
class SinkConformance:
    """The suite for one sink. ``invalid_configs``: settings the config must refuse, each with
    the top-level field the refusal names. ``environ``: the secrets its settings name."""

    spec: SinkSpec
    fake: Callable[[], AbstractContextManager[ConformanceFake]]
    invalid_configs: Sequence[tuple[Mapping[str, Any], str]]
    environ: Mapping[str, str] = field(default_factory=dict)
    contract: ContractSpec | None = None
    # The payload of event ``number`` (default: the contract's example for each): a sink whose
    # back office keeps one thing per subject (a follow per person) needs events about others.
    payload: Callable[[int], Mapping[str, Any]] | None = None

    def case_names(self) -> list[str]:
        return list(_CASES)

    async def run(self, case: str) -> None:
        await _CASES[case](self)

    def event(self, number: int = 1) -> CloudEvent:
        contract = self.contract or _contract_for(self.spec)
        event, _ = build_event(
            contract,
            contract.example if self.payload is None else self.payload(number),
            tenant=TENANT.id,
            source=source_urn(TENANT.oin, "conformance"),
            event_id=f"00000000-0000-4000-8000-{number:012d}",
            time=datetime(2026, 11, 29, 10, 0, tzinfo=UTC),
        )
        return event

    def delivery(self, number: int = 1, attempt: int = 1) -> Delivery:
        key = f"00000000-0000-5000-8000-{number:012d}"
        return Delivery(self.event(number), TENANT.id, "conformance", key, attempt)

    def sink(self, fake: ConformanceFake) -> Sink:
        assert self.spec.build is not None, f"{self.spec.name} builds no sink"
        config = self.spec.config.model_validate({**self.spec.example, **fake.settings()})
        context = ConnectorContext(
            TENANT, "conformance", self.spec.name, secrets=Secrets(dict(self.environ))
        )
        return self.spec.build(config, context)


async def config_example_is_valid(suite: SinkConformance) -> None:
    """The spec's example config loads (it is the one in docs/connectors.md)."""
    suite.spec.config.model_validate(dict(suite.spec.example))


async def config_fields_are_documented(suite: SinkConformance) -> None:
    """Every config field has a description: the generated reference needs one."""
    bare = [name for name, f in suite.spec.config.model_fields.items() if not f.description]
    assert bare == [], f"config fields without a description: {bare}"


async def invalid_config_names_the_field(suite: SinkConformance) -> None:
    """Each invalid config is refused, and the refusal names the field."""
    assert suite.invalid_configs, "give at least one invalid config"
    for settings, name in suite.invalid_configs:
        try:
            suite.spec.config.model_validate(dict(settings))
        except ValidationError as exc:
            named = [error["loc"][0] for error in exc.errors() if error["loc"]]
            assert name in named, f"{dict(settings)} refused naming {named}, not {name!r}"
        else:
            raise AssertionError(f"{dict(settings)} was accepted; expected a refusal of {name!r}")


async def happy_path(suite: SinkConformance) -> None:
    """open, check, deliver, close (twice): the back office makes one thing."""
    with suite.fake() as fake:
        sink = suite.sink(fake)
        assert 1 <= sink.max_in_flight <= 1000, f"max_in_flight {sink.max_in_flight}"
        await sink.open()
        try:
            health = await sink.check()
            outcome = await sink.deliver(suite.delivery())
        finally:
            await sink.close()
        await sink.close()
        assert health == Health(ok=True, detail=health.detail), f"check: {health}"
        assert isinstance(outcome, Delivered), f"delivered to a healthy fake: {outcome}"
        assert fake.effects() == 1, f"the fake made {fake.effects()} things, not 1"


async def retryable_vs_permanent(suite: SinkConformance) -> None:
    """A passing failure is Retryable (or Throttled), a refusal Permanent; neither made a
    thing, and the back office is used again after either."""
    with suite.fake() as fake:
        sink = suite.sink(fake)
        await sink.open()
        try:
            fake.fail_next("retryable")
            passing = await sink.deliver(suite.delivery())
            fake.fail_next("permanent")
            refused = await sink.deliver(suite.delivery(2))
            recovered = await sink.deliver(suite.delivery(attempt=2))
        finally:
            await sink.close()
        assert isinstance(passing, Retryable | Throttled), f"a passing failure gave {passing}"
        assert isinstance(refused, Permanent), f"a refusal gave {refused}"
        assert isinstance(recovered, Delivered), f"after recovery: {recovered}"
        assert fake.effects() == 1, f"the fake made {fake.effects()} things, not 1"


async def redelivery_changes_nothing(suite: SinkConformance) -> None:
    """The same event again (a later attempt, a replay) changes nothing; another event does."""
    with suite.fake() as fake:
        sink = suite.sink(fake)
        await sink.open()
        try:
            outcomes = [
                await sink.deliver(suite.delivery(attempt=1)),
                await sink.deliver(suite.delivery(attempt=2)),
            ]
            after_repeat = fake.effects()
            outcomes.append(await sink.deliver(suite.delivery(2)))
        finally:
            await sink.close()
        assert all(isinstance(o, Delivered) for o in outcomes), f"outcomes: {outcomes}"
        assert after_repeat == 1, f"a redelivery made a second thing ({after_repeat})"
        assert fake.effects() == 2, f"another event made {fake.effects() - 1} things, not 1"


_CASES: dict[str, Case] = {
    case.__name__: case
    for case in (
        config_example_is_valid,
        config_fields_are_documented,
        invalid_config_names_the_field,
        happy_path,
        retryable_vs_permanent,
        redelivery_changes_nothing,
    )
}
