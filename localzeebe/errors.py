"""Command rejections, named after Zeebe's rejection types; the gateway maps them to gRPC codes."""

from __future__ import annotations

import enum


class Rejection(enum.Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    INVALID_STATE = "INVALID_STATE"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"


class CommandRejected(Exception):
    """A command the engine refuses, with Zeebe's rejection type and a readable reason."""

    def __init__(self, rejection: Rejection, message: str) -> None:
        super().__init__(message)
        self.rejection = rejection
        self.message = message


def not_found(message: str) -> CommandRejected:
    return CommandRejected(Rejection.NOT_FOUND, message)


def invalid_argument(message: str) -> CommandRejected:
    return CommandRejected(Rejection.INVALID_ARGUMENT, message)


def invalid_state(message: str) -> CommandRejected:
    return CommandRejected(Rejection.INVALID_STATE, message)


def already_exists(message: str) -> CommandRejected:
    return CommandRejected(Rejection.ALREADY_EXISTS, message)
