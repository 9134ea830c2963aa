"""Exceptions raised by the duosync binding, one class per C status code (capi/duosync.h)."""

import enum


class Code(enum.IntEnum):
    """The DUO_* status codes (the numbers of absl::StatusCode)."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


class LibraryError(RuntimeError):
    """libduosync could not be found or loaded, or its version does not fit this package."""


class Error(Exception):
    """A failed duosync call. `code` is a `Code` (an int), `message` the library's text."""

    code = Code.UNKNOWN

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = _as_code(code)

    def __str__(self):
        name = self.code.name if isinstance(self.code, Code) else f"code {int(self.code)}"
        return f"{self.message} [{name}]"


class Cancelled(Error):
    code = Code.CANCELLED


class Unknown(Error):
    code = Code.UNKNOWN


class InvalidArgument(Error):
    """A bad config or argument."""

    code = Code.INVALID_ARGUMENT


class DeadlineExceeded(Error):
    """The call's time ran out (e.g. Project.wait while the links still run)."""

    code = Code.DEADLINE_EXCEEDED


class NotFound(Error):
    code = Code.NOT_FOUND


class AlreadyExists(Error):
    code = Code.ALREADY_EXISTS


class PermissionDenied(Error):
    code = Code.PERMISSION_DENIED


class ResourceExhausted(Error):
    code = Code.RESOURCE_EXHAUSTED


class FailedPrecondition(Error):
    """A precheck failed, or the call does not fit the project's state."""

    code = Code.FAILED_PRECONDITION


class Aborted(Error):
    code = Code.ABORTED


class OutOfRange(Error):
    code = Code.OUT_OF_RANGE


class Unimplemented(Error):
    code = Code.UNIMPLEMENTED


class Internal(Error):
    code = Code.INTERNAL


class Unavailable(Error):
    """A server cannot be reached or went away."""

    code = Code.UNAVAILABLE


class DataLoss(Error):
    code = Code.DATA_LOSS


class Unauthenticated(Error):
    code = Code.UNAUTHENTICATED


_BY_CODE = {
    cls.code: cls
    for cls in (
        Cancelled, Unknown, InvalidArgument, DeadlineExceeded, NotFound, AlreadyExists,
        PermissionDenied, ResourceExhausted, FailedPrecondition, Aborted, OutOfRange,
        Unimplemented, Internal, Unavailable, DataLoss, Unauthenticated,
    )
}


def _as_code(code):
    try:
        return Code(code)
    except ValueError:
        # A code newer than this package: keep the plain number.
        return int(code)


def error_for(code, message):
    """The exception for a non-zero status `code` from the C ABI."""
    cls = _BY_CODE.get(code)
    if cls is None:
        return Error(message or f"duosync error {code}", code)
    return cls(message or cls.code.name.lower().replace("_", " "))
