"""The demo: two campaigns with their organisations, and a crowd of signers to go with them."""
