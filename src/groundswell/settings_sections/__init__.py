"""Sections of settings.py kept in modules of their own, each imported by it by name.

Each reads its variables once, through the typed readers in lib/env.py, when
settings.py imports it; nothing else imports these modules: read the values from
django.conf.settings.
"""
