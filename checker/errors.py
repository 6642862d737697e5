"""The one error type of the checker: malformed or unreadable input, with the field it concerns."""

from __future__ import annotations


class CertificateError(Exception):
    """A certificate cannot be read or does not have the documented form.

    ``field`` is a dotted JSON path ("witness.gaps[3][1]"); the message says what was expected.
    The CLI prints "FILE: field: message" and exits with code 2.
    """

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class InputError(CertificateError):
    """The file cannot be read at all (missing, unreadable, not a regular file): exit code 3."""

    def __init__(self, message: str):
        super().__init__("(file)", message)
