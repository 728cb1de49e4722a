"""Feature flags on GrowthBook: `GrowthBookFlags`.

Needs the ``flags`` extra (growthbook). Flags are evaluated locally by the SDK from a
features payload (the GrowthBook API's, or a local JSON file); a flag the payload does not
know, or a payload that could not be fetched, is the caller's default.
"""

from loc_adapters.growthbook.flags import GrowthBookFlags

__all__ = ["GrowthBookFlags"]
