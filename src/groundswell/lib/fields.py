"""Model fields that several apps declare alike, named once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from django.db import models

if TYPE_CHECKING:
    from datetime import datetime

    from django_stubs_ext import StrOrPromise

_Model = TypeVar("_Model", bound=models.Model)
OnDelete = Callable[..., None]


@overload
def optional_link(
    to: type[_Model],
    *,
    related_name: str,
    on_delete: OnDelete = models.SET_NULL,
    **options: Any,
) -> models.ForeignKey[_Model | None, _Model | None]: ...
@overload
def optional_link(
    to: str, *, related_name: str, on_delete: OnDelete = models.SET_NULL, **options: Any
) -> models.ForeignKey[Any, Any]: ...
def optional_link(
    to: type[models.Model] | str,
    *,
    related_name: str,
    on_delete: OnDelete = models.SET_NULL,
    **options: Any,
) -> models.ForeignKey[Any, Any]:
    """A link that may be empty. Unless told otherwise it is emptied when the row it
    points to is deleted: the row keeps its meaning without it (a bounce once its person
    is erased, an audit entry once its organisation is gone)."""
    return models.ForeignKey(
        to, on_delete=on_delete, null=True, blank=True, related_name=related_name, **options
    )


def time_added(verbose_name: StrOrPromise, **options: Any) -> models.DateTimeField[Any, datetime]:
    """When the row was added: set by save() on insert, never changed after. Inserts
    that bypass save() (lib/inserts.py, demo/load.py) set it themselves."""
    return models.DateTimeField(verbose_name, auto_now_add=True, **options)


def time_last_saved(verbose_name: StrOrPromise) -> models.DateTimeField[Any, datetime]:
    """When the row was last saved: set again by every save(), but not by a queryset's
    update(), which names it when the change should show."""
    return models.DateTimeField(verbose_name, auto_now=True)
