"""How fast a prepared mailing turns into messages, against the standard library.

    .venv/bin/python bench/mime.py [--seconds 3]

Builds the same personalised message (the demo's Campaign B mailing, a different
member each time) two ways in one run: PreparedMailing.message_bytes (headers and
MIME skeleton written once, per-recipient values substituted), and Python's
EmailMessage with the SMTP policy fed the same rendered parts. Prints messages/s
per second of CPU time for each and the ratio. One process, one core. See docs/mailings.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-0123456789")
os.environ.setdefault("SUPPRESSION_KEY", "be" * 32)
os.environ["GROUNDSWELL_DATA_DIR"] = tempfile.mkdtemp(prefix="groundswell-bench-mime-")
os.environ.setdefault("BASE_URL", "https://act.fieldstone.example")
os.environ.setdefault("EMAIL_URL", "memory://")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "groundswell.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from groundswell.lib.tokens import make_member_token  # noqa: E402
from groundswell.mailings.models import Mailing, MailingRecipient  # noqa: E402
from groundswell.mailings.rendering import prepare_mailing  # noqa: E402
from groundswell.members.models import Person  # noqa: E402

PEOPLE = 1000


def rate(build, seconds: float) -> float:
    """Messages per second of this process's CPU time (other load on the machine
    slows the wall clock, not this figure)."""
    count, started, cpu = 0, time.perf_counter(), time.process_time()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for _ in range(100):
            build(count)
            count += 1
    return count / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("load_demo", signatures=10, stdout=quiet)
    mailing = Mailing.objects.filter(petition__slug="microsoft-cancelthecontract").first()
    if mailing is None:
        sys.exit("The demo has no Campaign B mailing: load_demo must create it.")
    prepared = prepare_mailing(mailing)
    names = ["Katy", "Zoë", "Bob", "", "Marta", "Ngozi", "Siobhán", "Li"]
    recipients = [
        MailingRecipient(
            pk=i + 1,
            mailing=mailing,
            person=Person(pk=i + 1, first_name=names[i % len(names)], last_name="Member"),
            email=f"member{i}@example.org",
            variant="A",
        )
        for i in range(PEOPLE)
    ]
    size = len(prepared.message_bytes(recipients[0]))

    def ours(i: int) -> bytes:
        return prepared.message_bytes(recipients[i % PEOPLE])

    def stdlib(i: int) -> bytes:
        recipient = recipients[i % PEOPLE]
        person = recipient.person
        assert person is not None
        token = make_member_token(person.pk, mailing.pk)
        html, text = prepared.parts(person, recipient.email, token)
        message = EmailMessage(policy=SMTP)
        message["From"] = f"{mailing.from_name} <{mailing.from_email}>"
        message["To"] = recipient.email
        message["Subject"] = mailing.subject
        message["Date"] = prepared._dates.now()
        message["Message-ID"] = prepared.new_message_id(recipient.pk)
        message["List-Unsubscribe"] = f"<https://act.fieldstone.example/unsubscribe/{token}/>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["List-Id"] = "Fieldstone Action <fieldstone-action.lists.act.fieldstone.example>"
        message.set_content(text, cte="quoted-printable")
        message.add_alternative(html, subtype="html", cte="quoted-printable")
        return message.as_bytes()

    # Interleaved rounds: a busy moment on the machine hurts both alike.
    ours_rates, stdlib_rates = [], []
    for _ in range(3):
        ours_rates.append(rate(ours, args.seconds / 3))
        stdlib_rates.append(rate(stdlib, args.seconds / 3))
    best_ours, best_stdlib = max(ours_rates), max(stdlib_rates)
    print(f"message size: {size:,} bytes, {len(prepared.links)} tracked links")
    print(f"PreparedMailing.message_bytes: {best_ours:10,.0f} messages per CPU-second")
    print(f"EmailMessage (policy SMTP):    {best_stdlib:10,.0f} messages per CPU-second")
    print(f"ratio: {best_ours / best_stdlib:.1f}x")


if __name__ == "__main__":
    main()
