"""Reports: what mailings and petitions achieved, as tables, charts and CSV."""
