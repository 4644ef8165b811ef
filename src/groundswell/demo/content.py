"""What the demo shows: fictional organisations running two real-world campaigns.

The organisations, their staff and every member are invented (their web and mail
domains end in .example, which can never reach anyone). The campaigns' subject,
the company, the agency, the contract, the figures and the dates are public
facts, told here in our own words.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DemoOrganisation:
    slug: str
    name: str
    domain: str
    postal_address: str
    sender_name: str
    list_name: str
    list_description: str

    @property
    def website(self) -> str:
        return f"https://{self.domain}"

    @property
    def privacy_policy_url(self) -> str:
        return f"https://{self.domain}/privacy"

    @property
    def sender_email(self) -> str:
        return f"updates@{self.domain}"


@dataclass(frozen=True)
class DemoPetition:
    slug: str
    title: str
    target: str
    statement: str
    background: str
    sponsor_slugs: tuple[str, ...]
    consent_mode: str  # "notice" or "explicit", as in petitions.models.ConsentMode
    goal: int
    opened_days_ago: int
    thank_you_text: str
    share_text: str
    # Days after opening when an email to the lists sent people to the page.
    email_blast_days: tuple[float, ...]
    # Chance that a signer picks each source, in this order: email, facebook, twitter, website.
    source_weights: tuple[float, float, float, float]
    # Explicit consent only: chance a signer ticks each sponsor's box.
    opt_in_rates: dict[str, float] = field(default_factory=dict)


TALLGRASS_TRUST = DemoOrganisation(
    slug="tallgrass-rights-trust",
    name="Tallgrass Rights Trust",
    domain="tallgrass.example",
    postal_address="Tallgrass Rights Trust\n418 Harrow Street, Suite 3\nOakland, CA 94612\nUSA",
    sender_name="Dana Whitlock at Tallgrass Rights Trust",
    list_name="Tallgrass updates",
    list_description="Occasional news about the Trust's research, legal work and campaigns.",
)
TALLGRASS_FUND = DemoOrganisation(
    slug="tallgrass-action-fund",
    name="Tallgrass Action Fund",
    domain="action.tallgrass.example",
    postal_address="Tallgrass Action Fund\n418 Harrow Street, Suite 5\nOakland, CA 94612\nUSA",
    sender_name="Dana Whitlock at Tallgrass Action Fund",
    list_name="Tallgrass Action Fund alerts",
    list_description="Calls to action: petitions, calls to decision makers, events.",
)
FIELDSTONE = DemoOrganisation(
    slug="fieldstone-action",
    name="Fieldstone Action",
    domain="fieldstone.example",
    postal_address="Fieldstone Action\nPO Box 20417\nChicago, IL 60620\nUSA",
    # The campaign manager who signs Campaign B's email.
    sender_name="Marisol Whitcombe at Fieldstone Action",
    list_name="Fieldstone Action members",
    list_description="Campaign emails from Fieldstone Action and the coalitions it convenes.",
)
HARBOURLIGHT = DemoOrganisation(
    slug="harbourlight-legal-aid",
    name="Harbourlight Immigrant Legal Aid",
    domain="harbourlight.example",
    postal_address="Harbourlight Immigrant Legal Aid\n77 Ferry Lane\nProvidence, RI 02903\nUSA",
    sender_name="Harbourlight Immigrant Legal Aid",
    list_name="Harbourlight supporters",
    list_description="News from our clinics and the cases we take on.",
)
CEDAR_VALLEY = DemoOrganisation(
    slug="cedar-valley-families",
    name="Cedar Valley Families United",
    domain="cedarvalley.example",
    postal_address="Cedar Valley Families United\n1290 Mesquite Avenue\nTucson, AZ 85705\nUSA",
    sender_name="Cedar Valley Families United",
    list_name="Cedar Valley news",
    list_description="Updates for families, volunteers and friends of the network.",
)
KEYSTROKE = DemoOrganisation(
    slug="keystroke-workers",
    name="Keystroke Workers for Justice",
    domain="keystroke.example",
    postal_address=(
        "Keystroke Workers for Justice\n55 Pine Terrace, Unit 210\nSeattle, WA 98101\nUSA"
    ),
    sender_name="Keystroke Workers for Justice",
    list_name="Keystroke organising list",
    list_description="For tech workers organising around what their work is used for.",
)

ORGANISATIONS = (TALLGRASS_TRUST, TALLGRASS_FUND, FIELDSTONE, HARBOURLIGHT, CEDAR_VALLEY, KEYSTROKE)

CAMPAIGN_A = DemoPetition(
    slug="microsoft-end-ice-contract",
    title="Microsoft: stop working for ICE",
    target="the leaders of Microsoft",
    statement=(
        "End every contract Microsoft holds with U.S. Immigration and Customs Enforcement "
        "(ICE). ICE stands accused of serious human-rights abuses, among them taking children "
        "away from their families at the U.S.-Mexico border. Microsoft publishes principles "
        "about using technology responsibly: we ask you to live by them and stop supplying "
        "this agency."
    ),
    background="""\
Microsoft has a contract with U.S. Immigration and Customs Enforcement worth about
$19.4 million.[^1] What ICE buys is Azure, the company's cloud platform, and Microsoft
itself described its work for the agency as "mission critical" to ICE's operations.[^2]

Most of us touch Microsoft products every day: our email, the documents we write, the
spreadsheets we keep. Hardly anyone knows that the same company helps keep ICE running
while the agency splits up families and holds people in detention centres where abuse
has been reported.[^3]

People inside Microsoft are not staying quiet. In June 2018 more than 100 of its own
employees posted an open letter asking the company to drop the contract.[^4] We stand
with them. When the customers speak up as well, the company's leaders will have to
listen.

[^1]: The Hill, June 2018, "Microsoft employees unhappy with CEO response plan further
    action against ICE contract",
    <https://thehill.com/policy/technology/393358-microsoft-employees-dissatisfied-by-ceo-response-plan-action-against-ice>

[^2]: Microsoft's Azure Government blog, January 2018, announcing ICE's move to Azure
    Government.

[^3]: The Nation, 27 June 2018, reporting on abuse of people held in immigration
    detention centres.

[^4]: The New York Times, 19 June 2018, first report of the employees' open letter.
""",
    sponsor_slugs=(TALLGRASS_TRUST.slug, TALLGRASS_FUND.slug),
    # Explicit, as the product recommends: one unticked box per organisation.
    consent_mode="explicit",
    opt_in_rates={TALLGRASS_TRUST.slug: 0.64, TALLGRASS_FUND.slug: 0.41},
    goal=5000,
    opened_days_ago=35,
    thank_you_text=(
        "Thank you for adding your name. Microsoft listens to its customers: the more of us "
        "there are, the harder this is to ignore. Please ask a friend to sign too."
    ),
    share_text=(
        "I just told Microsoft to end its contract with ICE. Families should not be torn "
        "apart with the help of our everyday software. Add your name:"
    ),
    email_blast_days=(0.4, 8.2, 19.5, 30.1),
    source_weights=(0.45, 0.22, 0.10, 0.23),
)

CAMPAIGN_B = DemoPetition(
    slug="microsoft-cancelthecontract",
    title="Satya Nadella: cancel the contract",
    target="Satya Nadella, CEO of Microsoft",
    statement=(
        "Microsoft must stop helping to power the deportation machine. Cancel the company's "
        "contracts with U.S. Immigration and Customs Enforcement (ICE), and with any other "
        "client that enforces inhumane immigration policies."
    ),
    background="""\
Microsoft has more than $19 million in active contracts with ICE.[^1] Over 300 of the
company's own workers have signed a letter asking it to walk away from them.[^2]

Satya Nadella told his staff he was "dismayed" and "appalled" that children were being
separated from their parents at the border.[^3] The contract is still in place. A
Microsoft blog post had announced that Azure would process ICE's sensitive unclassified
data, and it named facial recognition among the things the platform could help with.[^4]

Nadella has said that empathy is the heart of his mission as chief executive.[^5]
Empathy that ends with a statement is not enough. Workers inside the company and
customers outside it are asking for the same thing: cancel the contract.[^6]

Fieldstone Action runs this petition on behalf of a coalition: Harbourlight Immigrant
Legal Aid, Cedar Valley Families United and Keystroke Workers for Justice.

[^1]: The Hill, June 2018, on the value of Microsoft's ICE contract.

[^2]: The Verge, June 2018, on the Microsoft workers' letter against the contract.

[^3]: Fortune, June 2018, on Satya Nadella's memo to employees about family separation.

[^4]: Common Dreams, June 2018, on Microsoft's Azure Government announcement for ICE.

[^5]: Harvard Business School, July 2018, on empathy in Satya Nadella's leadership.

[^6]: Common Dreams, July 2018, on the continuing campaign by Microsoft workers.
""",
    sponsor_slugs=(FIELDSTONE.slug, HARBOURLIGHT.slug, CEDAR_VALLEY.slug, KEYSTROKE.slug),
    consent_mode="explicit",
    goal=3000,
    opened_days_ago=21,
    thank_you_text=(
        "Thank you. Your name goes to Satya Nadella with everyone else's, and every name "
        "makes this harder to ignore. Please ask a friend to sign too."
    ),
    share_text=(
        "Microsoft's CEO says he is appalled by family separation, yet Microsoft still "
        "works for ICE. Tell Satya Nadella to cancel the contract:"
    ),
    email_blast_days=(0.2, 6.5, 13.3),
    source_weights=(0.60, 0.18, 0.12, 0.10),
    opt_in_rates={
        FIELDSTONE.slug: 0.72,
        HARBOURLIGHT.slug: 0.21,
        CEDAR_VALLEY.slug: 0.17,
        KEYSTROKE.slug: 0.14,
    },
)

PETITIONS = (CAMPAIGN_A, CAMPAIGN_B)

# The member to look for in the admin and on the page ("Not Katy? Click here.").
KATY_EMAIL = "katy@example.org"
KATY_FIRST_NAME = "Katy"
KATY_LAST_NAME = "Ashdown"
KATY_POSTAL_CODE = "BS3 4QT"
KATY_COUNTRY = "GB"
KATY_COMMENT = "My whole office runs on Outlook. I want to know what else it pays for."

COMMENTS = (
    "Children belong with their parents. Full stop.",
    "I pay for Office every month. Not like this.",
    "I work in IT and I recommend Azure to clients. I'd like to keep doing that with a "
    "clear conscience.",
    "My grandparents came here with nothing. Nobody took their kids away.",
    "Your principles page says technology should empower everyone. Prove it.",
    "Signing for my students, many of whom are scared for their families.",
    "Cloud contracts are a choice. Choose differently.",
    "Listen to your own engineers.",
    "As a long-time Windows user, I'm ashamed to learn this.",
    "No business is worth this.",
    "I'm a nurse. I've seen what detention does to people.",
    "Please, just cancel it.",
    "Companies can say no. Some already have.",
    "Do the right thing, Microsoft.",
    "Being appalled is not a policy.",
    "Stand with your employees, not with ICE.",
    "Families first.",
    "I teach kids whose parents live in fear. This matters.",
    "Tech should not be the back office of cruelty.",
    "Honour the letter your staff wrote.",
    "Signed from Manchester. The world is watching.",
    "I'll be looking at alternatives until this changes.",
    "Empathy means acting, not just saying the word.",
    "You can't be neutral when your servers run the system.",
    "For every family still waiting to be reunited.",
)

SOURCES = ("email", "facebook", "twitter", "website")
UNSUBSCRIBE_SOURCE = "unsubscribe-page"


def organisation(slug: str) -> DemoOrganisation:
    return next(org for org in ORGANISATIONS if org.slug == slug)


@dataclass(frozen=True)
class DemoMailing:
    """Campaign B's email blast, left as a draft for staff to preview, test and send."""

    organisation_slug: str
    petition_slug: str
    subject: str
    preheader: str
    body: str
    signoff_name: str
    signoff_title: str


CAMPAIGN_B_MAILING = DemoMailing(
    organisation_slug=FIELDSTONE.slug,
    petition_slug=CAMPAIGN_B.slug,
    subject="Tell Microsoft to stop enabling ICE",
    preheader=(
        "Microsoft's CEO says he is appalled by family separation. His company still works for ICE."
    ),
    body="""\
Dear {{ first_name|default:"friend" }},

Microsoft has more than $19 million in active contracts with U.S. Immigration and
Customs Enforcement (ICE), the agency that has been taking children away from their
parents at the border. [1]

[Add your name]({{ petition_url }})

The people who build Microsoft's products are already speaking up: over 300 of the
company's own workers have signed a letter asking it to walk away from the contract. [2]
Their chief executive, Satya Nadella, told staff he was "dismayed" and "appalled" by
family separation. [3] The contract is still in place.

This is about more than email and spreadsheets. When the deal was announced, a
Microsoft blog post said its Azure cloud would handle ICE's sensitive unclassified
data, and it listed facial recognition among the things the platform could help
with. [4]

Nadella often says that empathy is at the heart of his mission. [5] Empathy that ends
with a statement does not bring a single family back together. Microsoft's workers
have shown the way; now its customers can back them up. [6]

[Sign the petition]({{ petition_url }})

Our petition asks Microsoft to stop helping to power the deportation machine: to
cancel its contracts with ICE, and with any other client that enforces inhumane
immigration policies. [Fieldstone Action](https://fieldstone.example/) runs it with
our coalition partners Harbourlight Immigrant Legal Aid, Cedar Valley Families United
and Keystroke Workers for Justice.

When you have signed, please forward this email to a friend, or share the petition
with the buttons below. Every name makes this harder for Microsoft to ignore.

[Add your name to the petition]({{ petition_url }})

Thank you for standing with families,

---

**References**

1. The Hill, June 2018: the value of Microsoft's contracts with ICE.
2. The Verge, June 2018: the Microsoft workers' letter against the contract.
3. Fortune, June 2018: Satya Nadella's memo to employees about family separation.
4. Common Dreams, June 2018: Microsoft's Azure Government announcement for ICE.
5. Harvard Business School, July 2018: empathy in Satya Nadella's leadership.
6. Common Dreams, July 2018: Microsoft workers keep up the pressure.
""",
    signoff_name="Marisol Whitcombe",
    signoff_title="Campaign Manager",
)
