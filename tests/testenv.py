"""Loaded by pytest (-p tests.testenv) before Django's settings: the test environment.

Tests get a private data directory, fixed secret and suppression keys, tasks run in-process,
and mail kept in memory unless a test starts a real SMTP sink. DATABASE_URL,
when set, points every test at PostgreSQL instead of SQLite. Administrators sign in
without a second step (tests/workspace/test_two_factor.py turns STAFF_REQUIRE_2FA on).
"""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("SUPPRESSION_KEY", "5e" * 32)
os.environ["GROUNDSWELL_DATA_DIR"] = _data_dir = tempfile.mkdtemp(prefix="groundswell-tests-")
# Each pytest process (and each xdist worker) makes one: gone when it exits.
atexit.register(shutil.rmtree, _data_dir, ignore_errors=True)
os.environ.setdefault("TASKS_BACKEND", "immediate")
os.environ.setdefault("EMAIL_URL", "memory://")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("BASE_URL", "http://testserver")
os.environ.setdefault("STAFF_REQUIRE_2FA", "0")
