"""The provider webhooks django-anymail offers, less those this installation cannot run.

anymail's URL map mounts every provider it knows. A provider that needs a key or a
package we do not have fails when its view is made, for each request: an anonymous POST
to, say, /webhooks/anymail/brevo/inbound/ answered 500 (tests/hostile/). Such a
provider is left out, so the same POST is a 404.
"""

from __future__ import annotations

import warnings

from anymail.exceptions import AnymailConfigurationError, AnymailImproperlyInstalled
from anymail.webhooks.mandrill import MandrillSignatureMixin
from django.urls import URLPattern


def usable_webhooks() -> list[URLPattern]:
    from anymail import urls

    usable = []
    for pattern in urls.urlpatterns:
        view = pattern.callback
        try:
            # Only to see whether it can be made: its deprecation notices are for requests.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                made = view.view_class(**view.view_initkwargs)
        except (AnymailConfigurationError, AnymailImproperlyInstalled):
            continue
        # Mandrill's views ask for their key only when a POST comes.
        if isinstance(made, MandrillSignatureMixin) and getattr(made, "webhook_key", None) is None:
            continue
        usable.append(pattern)
    return usable
