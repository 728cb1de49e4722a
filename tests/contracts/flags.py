"""The `FeatureFlags` contract: every flags adapter, seen from the use case that asks.

Fixture: `make_flags`, building the adapter under test with the given flags set for
every user (flag name -> on/off).
"""

from collections.abc import Callable, Mapping

import pytest

from loc_core.ports import FeatureFlags
from loc_core.services.lines.drawing import RTP_DISBURSEMENTS_FLAG

MakeFlags = Callable[[Mapping[str, bool]], FeatureFlags]


class FeatureFlagsContract:
    @pytest.mark.parametrize("default", [True, False])
    def test_an_unknown_flag_is_the_callers_default(
        self, make_flags: MakeFlags, *, default: bool
    ) -> None:
        flags = make_flags({"another-flag": not default})
        assert flags.is_enabled("no-such-flag", default=default) is default
        assert flags.is_enabled("no-such-flag", default=default, user_id="user-1") is default

    @pytest.mark.parametrize("default", [True, False])
    def test_a_set_flag_wins_over_the_default(
        self, make_flags: MakeFlags, *, default: bool
    ) -> None:
        flags = make_flags({"on-flag": True, "off-flag": False})
        assert flags.is_enabled("on-flag", default=default) is True
        assert flags.is_enabled("off-flag", default=default) is False
        assert flags.is_enabled("on-flag", default=default, user_id="user-1") is True
        assert flags.is_enabled("off-flag", default=default, user_id="user-1") is False

    def test_no_flags_leave_rtp_disbursements_at_their_default(self, make_flags: MakeFlags) -> None:
        assert make_flags({}).is_enabled(RTP_DISBURSEMENTS_FLAG, default=True, user_id="u")
        off = make_flags({RTP_DISBURSEMENTS_FLAG: False})
        assert not off.is_enabled(RTP_DISBURSEMENTS_FLAG, default=True, user_id="u")
