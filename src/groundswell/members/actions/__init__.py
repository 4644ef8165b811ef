"""Every write to people and their consent, one module per subject: people, consent,
suppression, profile, privacy, audit."""
