"""The bootstrap as another team's code calls it: wrong types and half settings in code.

A library user builds `Settings` in code and hands it, with `overrides`, to `bootstrap`.
Whatever they get wrong is refused at once with an `InvalidConfiguration` naming what to
fix, never a `TypeError` or `AttributeError` from deep inside, and never a deployment
other than the one asked for (a string backend silently building AWS clients).
"""

import datetime as dt
import threading
from typing import Any

import attrs
import pytest
from fakes import InterferingUnitOfWork

from loc_adapters.memory import InMemoryDatabase, InMemoryUsers, ManualClock, SimulatedRails
from loc_core.creditline import CreditLineProduct
from loc_core.errors import InvalidConfiguration, NotFound
from loc_core.installment import InstallmentProduct
from loc_core.ports import Clock, PaymentRails, UnitOfWork, Users
from loc_core.services.commands import AcceptOffer, ApplyForLoan, GetLoan, ListLoanApplications
from loc_entrypoints.bootstrap import (
    _FIELD_TYPES,
    Backend,
    LockBackend,
    Settings,
    bootstrap,
    configure_observability,
    finish,
)

CLOCK = ManualClock(dt.datetime(2026, 1, 5, 15, tzinfo=dt.UTC))
QUEUE = "https://sqs.example/q"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param(
            {"backend": "memory"},
            r"backend \(LOC_BACKEND\) must be a Backend such as Backend.MEMORY, got str",
            id="backend-string",
        ),
        pytest.param(
            {"backend": Backend.DYNAMODB, "queue_url": QUEUE, "lock_backend": "dynamolock"},
            r"lock_backend \(LOC_LOCK_BACKEND\) must be a LockBackend",
            id="lock-backend-string",
        ),
        pytest.param({"region": None}, "LOC_REGION must be", id="region-none"),
        pytest.param({"log_level": 3}, "LOC_LOG_LEVEL must be", id="log-level-int"),
        pytest.param(
            {"table_name": 3},
            r"table_name \(LOC_TABLE_NAME\) must be a str, got int 3",
            id="table-name-int",
        ),
        pytest.param(
            {"service_name": None},
            r"service_name \(LOC_SERVICE_NAME\) must be a str",
            id="service-none",
        ),
        pytest.param(
            {"rail_seed": "7"}, r"rail_seed \(LOC_RAIL_SEED\) must be an int", id="seed-string"
        ),
        pytest.param(
            {"rail_seed": True},
            r"rail_seed \(LOC_RAIL_SEED\) must be an int, got bool",
            id="seed-bool",
        ),
    ],
)
def test_settings_of_the_wrong_type_are_refused_naming_the_field(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidConfiguration, match=message):
        Settings(**fields)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        pytest.param(
            Settings(backend=Backend.DYNAMODB), "LOC_QUEUE_URL is required", id="no-queue"
        ),
        pytest.param(
            Settings(lock_backend=LockBackend.DYNAMOLOCK, dynamolock_table="locks"),
            "needs dynamodb",
            id="dynamolock-on-memory",
        ),
        pytest.param(
            Settings(backend=Backend.DYNAMODB, queue_url=QUEUE, dynamolock_table="locks"),
            "need LOC_LOCK_BACKEND=dynamolock",
            id="lock-table-without-dynamolock",
        ),
    ],
)
def test_settings_built_in_code_are_checked_as_from_the_environment(
    settings: Settings, message: str
) -> None:
    with pytest.raises(InvalidConfiguration, match=message):
        bootstrap(settings)


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param("memory", id="string"),
        pytest.param({"backend": "memory"}, id="dict"),
        pytest.param(Settings, id="the-class"),
    ],
)
def test_settings_that_are_not_settings_are_refused(settings: Any) -> None:
    with pytest.raises(InvalidConfiguration, match="settings must be a Settings"):
        bootstrap(settings)
    with pytest.raises(InvalidConfiguration, match="settings must be a Settings"):
        configure_observability(settings)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        pytest.param(None, "a mapping of variable names", id="none"),
        pytest.param(["LOC_BACKEND"], "a mapping of variable names", id="list"),
        pytest.param({"LOC_SHARDS": 4}, "LOC_SHARDS must be text", id="int-value"),
    ],
)
def test_an_environment_that_is_not_text_is_refused(environ: Any, message: str) -> None:
    with pytest.raises(InvalidConfiguration, match=message):
        Settings.from_env(environ)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param(Clock, "overrides must be a mapping", id="not-a-mapping"),
        pytest.param({"Clock": CLOCK}, "keys must be port types.*'Clock'", id="key-string"),
        pytest.param({Clock: None}, "Clock is None", id="adapter-none"),
        pytest.param(
            {Users: InMemoryUsers}, "the class InMemoryUsers, not an instance", id="a-class"
        ),
        pytest.param({Clock: "12:00"}, "str is not a Clock: it has no now", id="not-a-clock"),
        pytest.param(
            {PaymentRails: CLOCK}, "ManualClock is not a PaymentRails", id="clock-as-rails"
        ),
        pytest.param(
            {InstallmentProduct: CreditLineProduct()},
            "CreditLineProduct is not an InstallmentProduct",
            id="wrong-product",
        ),
    ],
)
def test_overrides_that_cannot_be_used_are_refused_at_once(overrides: Any, message: str) -> None:
    with pytest.raises(InvalidConfiguration, match=message):
        bootstrap(overrides=overrides)


def test_good_overrides_and_settings_still_make_a_working_bus() -> None:
    users = InMemoryUsers()
    users.add("user-1", active=True)
    bus = bootstrap(
        Settings(service_name="consumer"),
        overrides={Clock: CLOCK, Users: users, PaymentRails: SimulatedRails(CLOCK)},
    )
    offer = bus.handle(ApplyForLoan("user-1", 30_000, "apply-1"))
    loan = bus.handle(AcceptOffer("user-1", offer.application_id))
    assert loan.outstanding_balance == 31_500


def test_a_secret_of_the_wrong_type_is_refused_without_its_value() -> None:
    with pytest.raises(InvalidConfiguration) as refused:
        Settings(payengine_api_key=4_242_424_242)  # type: ignore[arg-type]
    assert str(refused.value) == (
        "payengine_api_key (LOC_PAYENGINE_API_KEY) must be a str, got int"
    )


def test_every_setting_has_its_type_checked() -> None:
    unchecked = [f.name for f in attrs.fields(Settings) if str(f.type) not in _FIELD_TYPES]
    assert unchecked == []


def test_two_embedded_defaults_share_nothing() -> None:
    users = InMemoryUsers()
    users.add("user-1", active=True)
    first, second = (bootstrap(overrides={Clock: CLOCK, Users: users}) for _ in range(2))
    offer = first.handle(ApplyForLoan("user-1", 30_000, "apply-1"))
    loan = first.handle(AcceptOffer("user-1", offer.application_id))
    with pytest.raises(NotFound):
        second.handle(GetLoan("user-1", loan.loan_id))


def test_finish_refuses_what_is_not_a_bus() -> None:
    with pytest.raises(InvalidConfiguration, match="finish takes the bus bootstrap built"):
        finish(Settings())  # type: ignore[arg-type]


def test_a_second_thread_waits_for_the_command_under_way_on_one_bus() -> None:
    """Every handler shares the bus's one unit of work: a second thread's command, handed
    to the bus while the first was about to commit, used to clear the first's pending
    writes (its application lost, `NotFound` on its acceptance)."""
    people = InMemoryUsers()
    for user in ("user-1", "user-2"):
        people.add(user, active=True)
    database = InMemoryDatabase(CLOCK)
    second: list[threading.Thread] = []

    def meanwhile() -> None:  # another thread, while the first command commits
        thread = threading.Thread(target=bus.handle, args=(ApplyForLoan("user-2", 30_000, "k2"),))
        thread.start()
        thread.join(timeout=0.3)  # runs at once without the bus's lock; waits with it
        second.append(thread)

    racing = InterferingUnitOfWork(database, meanwhile)
    bus = bootstrap(
        overrides={Clock: CLOCK, Users: people, InMemoryDatabase: database, UnitOfWork: racing}
    )
    offer = bus.handle(ApplyForLoan("user-1", 30_000, "k1"))
    second[0].join()
    assert [a.application_id for a in bus.handle(ListLoanApplications("user-1"))] == [
        offer.application_id
    ]
    assert len(bus.handle(ListLoanApplications("user-2"))) == 1
