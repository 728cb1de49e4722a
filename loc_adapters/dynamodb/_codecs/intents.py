"""Transfer intents as items: one item each, keyed by the intent id alone."""

from __future__ import annotations

import attrs

from loc_adapters.dynamodb import _keys as keys
from loc_adapters.dynamodb._codecs.shared import STATUS, build, item_name, ttl_seconds
from loc_adapters.dynamodb._convert import Item, Shape, format_fixed_timestamp, parse_timestamp
from loc_core.intents import INTENT_RETENTION, TransferIntent
from loc_core.ports import IntentRef, SettlementEvent

__all__ = ["INTENT", "INTENT_REF", "decode_intent", "encode_intent", "intent_ref"]

# The intent names SettlementEvent only for type checkers; the codec needs the class.
attrs.resolve_types(TransferIntent, localns={"SettlementEvent": SettlementEvent})

INTENT = Shape(TransferIntent, required=STATUS)
"""Every field, the held settlement events and the events to publish as lists of maps."""

INTENT_REF = ("loc_user_id", "loc_intent_id", "loc_created_at")
"""What the open-intents index query reads."""


def encode_intent(intent: TransferIntent, *, shards: int) -> Item:
    """The intent's item.

    While the intent is open it is in the sparse open-intents index (GSI2, by creation
    time, sharded like the other indexes) and in its account's index (GSI3,
    `IntentRepository.open_for`); once finished it leaves both and gets a ``ttl``
    `INTENT_RETENTION` after its last change.
    """
    pk, sk = keys.intent_key(intent.intent_id)
    item: Item = {"PK": pk, "SK": sk, **INTENT.encode(intent)}
    if intent.is_open:
        created = keys.intent_open_sk(format_fixed_timestamp(intent.created_at), intent.intent_id)
        item["GSI2PK"] = keys.sharded(keys.INTENTS_OPEN, intent.intent_id, shards)
        item["GSI2SK"] = created
        item["GSI3PK"] = keys.intent_account_pk(intent.account_id)
        item["GSI3SK"] = created
    else:
        item["ttl"] = ttl_seconds(intent.updated_at + INTENT_RETENTION)
    return item


def decode_intent(item: Item) -> TransferIntent:
    """The intent an item holds."""
    where = item_name(item)
    values = INTENT.decode(item, where=where)
    return build(TransferIntent, values, f"transfer intent {where}")


def intent_ref(item: Item) -> IntentRef:
    """The reference an open-intents index entry gives."""
    return IntentRef(
        str(item["loc_user_id"]),
        str(item["loc_intent_id"]),
        parse_timestamp(item["loc_created_at"]),
    )
