"""What members tells the apps above it, so that it never imports them."""

from django.dispatch import Signal

# Sent inside the unsubscribe's transaction with `person` and `mailing_id`, the mailing
# the unsubscribe link came from (0 when it came from no mailing).
person_unsubscribed = Signal()
