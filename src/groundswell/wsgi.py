import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "groundswell.settings")
django_application = get_wsgi_application()

# Imported once Django is set up: it reads the petition caches.
from groundswell.lib.addresses import warm_up  # noqa: E402
from groundswell.petitions.fastpath import (  # noqa: E402
    CountJsonFromMemory,
    RecognisedPagesInFront,
)
from groundswell.tracking.fastpath import TrackedLinksFromMemory  # noqa: E402

# The petition count JSON, and the mailings' tracked links, answered from memory
# while nothing they show has changed; a member's petition page, in front of
# Django's middleware.
application = CountJsonFromMemory(
    TrackedLinksFromMemory(RecognisedPagesInFront(django_application))
)

# Before the first request, not by its first signers all at once (addresses.warm_up).
warm_up()

if os.environ.get("GROUNDSWELL_SERVE") == "1":
    from groundswell.lib.stopping import forward_stop_signals, granian_workers_stop_once

    # A web worker of `groundswell serve` (granian loads this module in its main
    # thread): Ctrl-C and SIGTERM must stop it, once, whichever thread takes them.
    granian_workers_stop_once()
    forward_stop_signals()
