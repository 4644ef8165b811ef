"""The `groundswell` console script: every manage.py command, plus our own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


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
    from groundswell.lib.env import ConfigurationError

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
