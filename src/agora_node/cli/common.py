"""What every ``agora-node`` command shares: the config file, the database, errors."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from agora_node.config import Settings, load_settings
from agora_node.errors import CommandError
from agora_node.processing.policies import Pipeline
from agora_node.store.db import Database

DEFAULT_CONFIG = "agora-data/agora.toml"


def load(path: str) -> Settings:
    """The settings, with the inbound policies built once to check them."""
    settings = load_settings(path)
    Pipeline.from_specs(settings.policies)
    return settings


def open_db(settings: Settings) -> Database:
    db = Database(settings.database.path)
    db.open()
    return db


def read_password(args: argparse.Namespace) -> str:
    """From ``--password-file``, else asked twice at the terminal."""
    if args.password_file:
        try:
            text = Path(args.password_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(
                f"cannot read password file {args.password_file}: {exc.strerror}"
            ) from None
        password = text.rstrip("\r\n")
        if not password:
            raise CommandError("password file is empty")
        return password
    if not sys.stdin.isatty():
        raise CommandError("no terminal to prompt for a password: use --password-file")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password (again): "):
        raise CommandError("passwords do not match")
    return first
