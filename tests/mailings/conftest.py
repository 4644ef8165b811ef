"""Fixtures for the mailings tests: the compose cast (see compose_cast.py)."""

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
