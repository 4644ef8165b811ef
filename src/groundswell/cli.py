"""The `groundswell` console script: every manage.py command, plus our own."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

HELP_FLAGS = {"-h", "--help"}
# makemigrations reads the models and writes migration files: no secret is involved.
CODE_ONLY_COMMANDS = {"help", "version", "--version", "makemigrations", *HELP_FLAGS}


def groundswell_command(*args: str) -> list[str]:
    """Our own console script, from the same environment as this process."""
    script = Path(sys.executable).with_name("groundswell")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "groundswell.cli", *args]


def stop_process(process: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `grace` seconds; reaped."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def reads_code_only(args: list[str]) -> bool:
    """True for help and version: a list of commands or options needs no configuration."""
    if len(args) < 2 or args[1] in CODE_ONLY_COMMANDS:
        return True
    return any(arg in HELP_FLAGS for arg in args[2:])


def suppression_key_line(args: list[str]) -> str:
    """`groundswell suppression_key [--new]`: the SUPPRESSION_KEY line to configure.

    Runs without Django's settings, which refuse to load until SUPPRESSION_KEY is set.
    """
    from groundswell.lib import signing
    from groundswell.lib.env import env_list, env_str

    if args == ["--new"]:
        return f"SUPPRESSION_KEY={signing.new_suppression_key()}\n"
    if args:
        raise SystemExit("usage: groundswell suppression_key [--new]")
    keys = signing.legacy_suppression_keys(env_str("SECRET_KEY"), env_list("SECRET_KEY_FALLBACKS"))
    return f"SUPPRESSION_KEY={keys}\n"


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "groundswell.settings")
    if len(args) > 1 and args[1] == "demo":
        # Only the demo may make up its own secret key and allow localhost.
        os.environ["GROUNDSWELL_DEMO"] = "1"
    from groundswell.lib.env import ConfigurationError, read_code_only

    if len(args) > 1 and args[1] in ("--version", "version"):
        import django

        print(
            f"groundswell {version('groundswell')}"
            f" (Django {django.get_version()}, Python {platform.python_version()})"
        )
        return
    if reads_code_only(args):
        read_code_only()

    try:
        if len(args) > 1 and args[1] == "suppression_key":
            sys.stdout.write(suppression_key_line(args[2:]))
            return
        from django.core.management import execute_from_command_line

        execute_from_command_line(args)
    except ConfigurationError as error:
        sys.stderr.write(f"groundswell: configuration error: {error}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
