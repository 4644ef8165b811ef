from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from groundswell.lib.fields import time_added, time_last_saved


class TestTimeFields:
    """The helpers must declare exactly Django's own fields: a difference would show as a
    migration for every model that uses them."""

    def test_it_declares_time_added_as_auto_now_add(self):
        assert (
            time_added(_("received"), db_index=True).deconstruct()
            == models.DateTimeField(_("received"), auto_now_add=True, db_index=True).deconstruct()
        )

    def test_it_declares_time_last_saved_as_auto_now(self):
        assert (
            time_last_saved(_("updated")).deconstruct()
            == models.DateTimeField(_("updated"), auto_now=True).deconstruct()
        )
