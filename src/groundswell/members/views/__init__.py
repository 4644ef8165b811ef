"""A member's own pages, reached from links in our emails: one module per subject
(unsubscribe, subscriptions and consent renewal, profile and email change, privacy
requests); links.py reads the links, replies.py holds the answers they share."""
