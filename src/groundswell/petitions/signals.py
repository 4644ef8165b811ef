"""What the petition pages announce to apps above them."""

from django.dispatch import Signal

# A recognised member opened a petition page from a link in a mailing. Sent with
# `request`, `link_number` (the link's `t`, as given), `token` (the `akid`) and
# `member` (the token's ids once checked, or None): tracking counts it as a click on
# that link.
member_link_followed = Signal()
