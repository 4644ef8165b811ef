"""Fixtures for the mailings tests: the compose cast and the send cast (see *_cast.py)."""

from tests.mailings.compose_cast import (  # noqa: F401
    alice,
    alice_client,
    bob,
    fieldstone,
    mailing,
    members_list,
    petition,
    zoe,
)
from tests.mailings.send_cast import mail_in_memory, org, supporters  # noqa: F401
