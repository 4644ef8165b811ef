"""Every write to petitions and signatures, one module per subject: signing, lifecycle
(open, close, draft), signatures (invalidate, restore, anonymise), imports (signatures
collected elsewhere), comments (hidden and shown)."""
