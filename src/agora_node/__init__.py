"""Agora: a federated ActivityPub microblogging node."""

__version__ = "0.1.0"
SOFTWARE_NAME = "agora"
