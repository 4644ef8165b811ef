"""Changes to mailings, by subject: every write staff pages, the CLI and tasks make goes
through one of these modules."""
