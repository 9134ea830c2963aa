"""Python binding of duosync, over the stable C ABI (capi/duosync.h) with ctypes only.

    import duosync
    with duosync.Project.from_dict(config) as p:
        report = p.precheck()
        if report["ok"]:
            p.start()
            print(p.status())

Configs are JSON (proto/duosync/config.proto), given as a dict or a JSON string; reports and status
come back as dicts parsed from the library's JSON (protobuf JSON mapping: 64-bit counters such as
"transactions_applied" are strings there). Failed calls raise a subclass of `duosync.Error` whose
`code` is the C status code.

The library is found through DUOSYNC_LIBRARY (its full path), else DUOSYNC_BUILD_DIR, else the
repository's build tree, else the system's library path.
"""

import collections.abc
import contextlib
import ctypes
import json
import threading

from . import _native
from .errors import (
    Aborted, AlreadyExists, Cancelled, Code, DataLoss, DeadlineExceeded, Error, FailedPrecondition,
    Internal, InvalidArgument, LibraryError, NotFound, OutOfRange, PermissionDenied,
    ResourceExhausted, Unauthenticated, Unavailable, Unimplemented, Unknown,
)

__all__ = [
    "Project", "validate", "version", "version_number", "Code", "Error", "LibraryError",
    "Cancelled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists",
    "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange",
    "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
]

# Project.wait(None) waits in slices this long, so Ctrl-C and close() get a say in between.
_WAIT_SLICE_MS = 1000


def version():
    """The loaded library's version, e.g. "0.1.0"."""
    return _native.lib().duo_version().decode()


def version_number():
    """The loaded library's DUO_VERSION_NUMBER (MAJOR*1000000 + MINOR*1000 + PATCH)."""
    return _native.lib().duo_version_number()


def _encode(config):
    if isinstance(config, collections.abc.Mapping):
        return json.dumps(config).encode()
    if isinstance(config, str):
        return config.encode()
    if isinstance(config, (bytes, bytearray)):
        return bytes(config)
    raise TypeError(f"config must be a dict or a JSON string, not {type(config).__name__}")


def validate(config):
    """Checks a config against every rule without creating a project.

    Returns the report {"ok", "errors": [{"field", "message", "fix"}], "warnings"}; an invalid
    config is reported there, not raised.
    """
    data = _encode(config)
    lib = _native.lib()
    _, report = _native.call(lib.duo_validate, data, len(data), with_out=True,
                             ok_codes=(Code.INVALID_ARGUMENT,))
    return json.loads(report)


class Project:
    """A sync project (the C duo_project_t). Close it, or use it as a context manager.

    The methods may be called from several threads at once; close() stops the project, waits for
    calls in flight on other threads to return, then frees it.
    """

    _handle = None  # class default, so __del__ works when __init__ failed

    def __init__(self, config):
        """Parses and validates `config` (dict or JSON string); raises InvalidArgument naming every
        broken rule when it is not valid."""
        self._cond = threading.Condition()
        self._in_flight = 0
        data = _encode(config)
        handle = _native.ProjectPtr()
        lib = _native.lib()
        _native.call(lib.duo_project_create, data, len(data), ctypes.byref(handle))
        self._handle = handle

    @classmethod
    def from_json(cls, text):
        """A project from a JSON string."""
        if not isinstance(text, (str, bytes, bytearray)):
            raise TypeError(f"from_json needs a str, not {type(text).__name__}")
        return cls(text)

    @classmethod
    def from_dict(cls, config):
        """A project from a dict in the shape of the JSON config."""
        if not isinstance(config, collections.abc.Mapping):
            raise TypeError(f"from_dict needs a dict, not {type(config).__name__}")
        return cls(config)

    @contextlib.contextmanager
    def _use(self):
        """Yields the handle, holding off close() until the call returns."""
        with self._cond:
            if not self._handle:
                raise FailedPrecondition("the project is closed")
            self._in_flight += 1
        try:
            yield self._handle
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify_all()

    def precheck(self):
        """Runs every precheck against the real endpoints and returns the report
        {"ok", "checks": [...]}. Failed checks do not raise: report["ok"] tells."""
        with self._use() as h:
            lib = _native.lib()
            _, report = _native.call(lib.duo_project_precheck, h, with_out=True,
                                     ok_codes=(Code.FAILED_PRECONDITION,))
        return json.loads(report)

    def start(self):
        """Starts the links in background threads; returns once each recorded where it starts.
        Raises FailedPrecondition if the project already runs."""
        with self._use() as h:
            _native.call(_native.lib().duo_project_start, h)

    def stop(self):
        """Stops all links and waits for their threads. Idempotent."""
        with self._use() as h:
            _native.call(_native.lib().duo_project_stop, h)

    def wait(self, timeout_s=None):
        """Waits up to timeout_s seconds (None: no limit) for the links to end by themselves.

        Returns when they ended well (a finished data migration); raises DeadlineExceeded while
        they still run, or the first link's error.
        """
        if timeout_s is not None:
            with self._use() as h:
                _native.call(_native.lib().duo_project_wait, h, max(0, round(timeout_s * 1000)))
            return
        while True:
            try:
                with self._use() as h:
                    _native.call(_native.lib().duo_project_wait, h, _WAIT_SLICE_MS)
                return
            except DeadlineExceeded:
                continue

    def status(self):
        """The status {"name", "scenario", "state", "endpoint_a", "endpoint_b", "links": [...]};
        passwords are masked."""
        with self._use() as h:
            _, text = _native.call(_native.lib().duo_project_status, h, with_out=True)
        return json.loads(text)

    @property
    def closed(self):
        return not self._handle

    def close(self):
        """Stops the project if it runs and frees it. Safe to call more than once."""
        with self._cond:
            handle, self._handle = self._handle, None
        if not handle:
            return
        lib = _native.lib()
        # Stop is safe alongside other calls and makes a wait() in another thread return.
        lib.duo_project_stop(handle, None)
        # duo_project_destroy must not race with other calls on the handle.
        with self._cond:
            self._cond.wait_for(lambda: self._in_flight == 0)
        lib.duo_project_destroy(handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if self._handle:
            try:
                self.close()
            except Exception:  # at interpreter exit the module may be half torn down
                pass

    def __repr__(self):
        return f"<duosync.Project {'closed' if self.closed else 'open'}>"
