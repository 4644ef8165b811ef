"""Defences against abuse of the public forms: signing, and the forms that send email.

Part of settings.py, which imports every name here (docs/configuration.md lists the
variables, docs/security.md explains the defences; petitions/defences.py applies them).
"""

from __future__ import annotations

from groundswell.lib.env import env_bool, env_choice, env_domain_file, env_int, env_limits, env_list

# Defences on signing (docs/security.md). Rate limits per client network (an IPv4
# address or an IPv6 /64) and per email domain, each petition counted on its own; a
# petition may set its own (blank there: these). Big webmail providers are never
# counted by the domain rule (lib/limits.py LARGE_PROVIDERS, plus this list).
SIGN_LIMITS = env_limits(
    "SIGN_LIMITS", "network=100/10m,1000/24h; domain=100/10m,1000/24h", ["network", "domain"]
)
SIGN_LIMITS_EXEMPT_DOMAINS = frozenset(d.lower() for d in env_list("SIGN_LIMITS_EXEMPT_DOMAINS"))
# Seconds a person takes at least between the page's arrival and pressing Sign; a
# petition may set its own. 0 turns the check off. The honeypot field is always there.
SIGN_MIN_SECONDS = env_int("SIGN_MIN_SECONDS", 3, minimum=0)
# Addresses at throwaway-mail services are refused (lib/disposable.py), plus the
# domains in this file.
SIGN_BLOCK_DISPOSABLE = env_bool("SIGN_BLOCK_DISPOSABLE", True)
# A puzzle the signer's browser solves before the form is sent (lib/proof_of_work.py):
# off, allow (a form sent without JavaScript is taken too) or require; a petition may
# say otherwise. Its difficulty in bits: 2**bits hashes on average, each bit doubling it.
SIGN_PROOF_OF_WORK = env_choice("SIGN_PROOF_OF_WORK", "off", ["off", "allow", "require"])
SIGN_PROOF_OF_WORK_BITS = env_int("SIGN_PROOF_OF_WORK_BITS", 16, minimum=1, maximum=32)
SIGN_BLOCKED_DOMAINS = env_domain_file("SIGN_BLOCKED_DOMAINS_FILE")
# A signature waits, out of the count, until its signer presses the button on the page
# an email links to (petitions/actions/confirming.py); a petition may say otherwise.
# Unconfirmed ones are removed this many days after signing.
SIGN_CONFIRM_BY_EMAIL = env_bool("SIGN_CONFIRM_BY_EMAIL", False)
SIGN_CONFIRM_DAYS = env_int("SIGN_CONFIRM_DAYS", 7, minimum=1)
# The forms that send an email to an address someone types (privacy requests, profile
# links, email changes): per client network and per address written to.
EMAIL_REQUEST_LIMITS = env_limits(
    "EMAIL_REQUEST_LIMITS", "network=10/10m,50/24h; address=3/10m,5/24h", ["network", "address"]
)
# Thank-you emails and "you had already signed" notes to one address, whatever the
# petitions, in any 24 hours.
THANK_YOU_EMAILS_PER_DAY = env_int("THANK_YOU_EMAILS_PER_DAY", 5, minimum=1)
