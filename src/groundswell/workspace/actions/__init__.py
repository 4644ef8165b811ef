"""Every write the workspace makes itself, one module per subject: two-factor sign-in
(twofactor), people imports (imports). Writes to other apps' records go through
their actions."""
