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

Events (stage changes, progress every second, conflicts, link errors) reach a callable given to
Project.on_event on a thread of the library; see there.

The library is found through DUOSYNC_LIBRARY (its full path), else DUOSYNC_BUILD_DIR, else the
repository's build tree, else the system's library path.
"""

import atexit
import collections.abc
import contextlib
import ctypes
import datetime
import enum
import json
import logging
import threading
import weakref

from . import _native
from .errors import (
    Aborted, AlreadyExists, Cancelled, Code, DataLoss, DeadlineExceeded, Error, FailedPrecondition,
    Internal, InvalidArgument, LibraryError, NotFound, OutOfRange, PermissionDenied,
    ResourceExhausted, Unauthenticated, Unavailable, Unimplemented, Unknown,
)

__all__ = [
    "Project", "validate", "version", "version_number", "set_log_level", "LogLevel", "EVENT_NAMES",
    "Code", "Error", "LibraryError",
    "Cancelled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists",
    "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange",
    "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
]

# Project.wait(None) waits in slices this long, so Ctrl-C and close() get a say in between.
_WAIT_SLICE_MS = 1000

# How long, at interpreter exit, to wait for an event callback in progress.
_EXIT_CALLBACK_WAIT_S = 1.0

_log = logging.getLogger("duosync")

# Event numbers (DUO_EVENT_*) to the names Project.on_event's callable receives.
EVENT_NAMES = {1: "stage", 2: "progress", 3: "conflict", 4: "error", 5: "verify"}


class LogLevel(enum.IntEnum):
    """The library's log levels (DUO_LOG_*), for set_log_level."""

    INFO = 0
    WARNING = 1  # the default
    ERROR = 2
    NONE = 3


def version():
    """The loaded library's version, e.g. "0.4.0"."""
    return _native.lib().duo_version().decode()


def version_number():
    """The loaded library's DUO_VERSION_NUMBER (MAJOR*1000000 + MINOR*1000 + PATCH)."""
    return _native.lib().duo_version_number()


def set_log_level(level):
    """Sets the least severe level the library logs: a LogLevel, its number or its name ("info",
    "warning", "error", "none"; any case). The default is WARNING.

    The setting is global to the process. The library writes its logs to the process's stderr
    (glog), not through Python's logging; if the host initialized glog itself, its settings stay
    in charge of where they go. Passwords never appear in them. Python's logging levels (e.g.
    logging.INFO, 20) are not accepted.
    """
    if isinstance(level, str):
        try:
            level = LogLevel[level.upper()]
        except KeyError:
            raise ValueError(f"unknown log level {level!r}; use one of "
                             f"{', '.join(m.name.lower() for m in LogLevel)}") from None
    elif isinstance(level, int) and not isinstance(level, bool):
        try:
            level = LogLevel(level)
        except ValueError:
            raise ValueError(f"log level {level} is not a duosync.LogLevel (0-3)") from None
    else:
        raise TypeError(f"log level must be a LogLevel, int or str, not {type(level).__name__}")
    _native.function("duo_set_log_level")(int(level))


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


class _EventSink:
    """The Python side of one project's C event callback.

    A project has at most one, kept until the project is destroyed, and only `fn` changes when
    Project.on_event replaces the callable: after duo_project_set_event_callback replaces or
    clears a callback the library may still be inside one call of it, so the C function pointer
    must stay valid until duo_project_destroy returns, the only point after which the library
    promises no call. The sink does not refer to its Project, so that a subscription does not keep
    the project alive.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self.fn = None  # the user's callable; None drops events
        self.closed = False  # set when the project closes: drop every event from now on
        self._calls = 0  # user callables running now (0 or 1: the library calls one at a time)
        # The library's event thread (one per project, the same for every call), once known.
        self._event_thread = None
        self.c_fn = _native.EventFn(self._dispatch)

    def set(self, fn):
        with self._cond:
            self.fn = fn

    def _dispatch(self, event, data, _user_data):
        # On the library's event thread (ctypes takes the GIL). Nothing may propagate into C, and
        # the return is always 0: a non-zero return would unsubscribe whichever callback is set
        # by the time the library looks at it, possibly a newer one.
        self._event_thread = threading.get_ident()  # first: a close() from here must know it
        with self._cond:
            fn = self.fn
            if fn is None or self.closed:
                return 0
            self._calls += 1
        try:
            fn(EVENT_NAMES.get(event, event), json.loads(data))
        except BaseException:  # even SystemExit: raised on a library thread, it would mean nothing
            _log.exception("duosync event callback %r raised on event %s; the event is dropped",
                           fn, EVENT_NAMES.get(event, event))
        finally:
            with self._cond:
                self._calls -= 1
                self._cond.notify_all()
        return 0

    def on_event_thread(self):
        """Whether the calling thread is the library's event thread (e.g. inside the callable)."""
        return threading.get_ident() == self._event_thread

    def close(self, timeout=None):
        """Drops every later event, and waits up to `timeout` seconds for a callable in progress
        (unless called on the event thread, from inside that callable)."""
        with self._cond:
            self.closed = True
            if not self.on_event_thread():
                self._cond.wait_for(lambda: self._calls == 0, timeout)


# Projects with an event callback: cleared at interpreter exit, so that no library thread calls
# into a finalizing interpreter.
_with_callbacks = weakref.WeakSet()


@atexit.register
def _detach_callbacks_at_exit():
    for project in list(_with_callbacks):
        try:
            project._detach_events(_EXIT_CALLBACK_WAIT_S)
        except Exception:  # closed meanwhile, or the library is gone: nothing left to call
            pass



# 64-bit counters of a link's status (and of its record store), which protobuf's JSON mapping
# writes as strings.
_LINK_COUNTERS = ("transactions_applied", "rows_applied", "echoes_dropped", "conflicts",
                  "full_rows_copied", "full_rows_estimated", "epoch", "reconnects")
_STORE_COUNTERS = ("bytes", "transactions")


def _typed_status(status):
    for link in status.get("links", []):
        for name in _LINK_COUNTERS:
            if isinstance(link.get(name), str):
                link[name] = int(link[name])
        for outcome in link.get("conflicts_by_outcome", []):
            if isinstance(outcome.get("count"), str):
                outcome["count"] = int(outcome["count"])
        for takeover in link.get("takeovers", []):  # coordinated mode
            for name in ("at_unix_ms", "epoch"):
                if isinstance(takeover.get(name), str):
                    takeover[name] = int(takeover[name])
        store = link.get("store")
        for name in _STORE_COUNTERS:
            if store and isinstance(store.get(name), str):
                store[name] = int(store[name])
    return status


class Project:
    """A sync project (the C duo_project_t). Close it, or use it as a context manager.

    The methods may be called from several threads at once; close() stops the project, waits for
    calls in flight on other threads to return, then frees it. An event callback (on_event) runs
    on a thread of the library.
    """

    _handle = None  # class default, so __del__ works when __init__ failed
    _events = None

    def __init__(self, config):
        """Parses and validates `config` (dict or JSON string); raises InvalidArgument naming every
        broken rule when it is not valid."""
        self._cond = threading.Condition()
        self._in_flight = 0
        self._events_lock = threading.Lock()  # serializes on_event and the callback's teardown
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

    def pause(self, link=None):
        """Pauses a running link ("forward" / "reverse"), or every link when link is None; it
        stops after its current work and reports stage "paused". Raises NotFound for an unknown
        link, FailedPrecondition when the project does not run."""
        with self._use() as h:
            _native.call(_native.function("duo_project_pause"), h,
                         None if link is None else link.encode())

    def resume(self, link=None):
        """Resumes a paused link (or every paused link when link is None) from its checkpoint."""
        with self._use() as h:
            _native.call(_native.function("duo_project_resume"), h,
                         None if link is None else link.encode())

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
        passwords are masked. Counters are ints (the C ABI's JSON, protobuf's mapping, writes
        64-bit counters as strings)."""
        with self._use() as h:
            _, text = _native.call(_native.lib().duo_project_status, h, with_out=True)
        return _typed_status(json.loads(text))

    def conflicts(self):
        """The conflicts met by the links (active-active projects meet them), the latest 1000 per
        link: {"forward": {"total": N, "conflicts": [{"link", "table", "key", "operation",
        "incoming_before", "incoming_after", "destination", "policy", "outcome", "time"}]},
        "reverse": {...}}, one entry per link the project started ("total" counts them all, also
        those no longer listed)."""
        with self._use() as h:
            _, text = _native.call(_native.function("duo_project_conflicts"), h, with_out=True)
        return json.loads(text)

    def switchover(self, read_only=False, timeout=60.0):
        """Swaps the roles of a running one-way (DATA_MIGRATION) project: B becomes the source.

        With read_only=True, A is made read-only first (SET GLOBAL read_only=ON; it stays so
        afterwards). Then waits up to `timeout` seconds until the forward link has applied
        everything A wrote, stops it, and starts the reverse link B -> A from B's current position.
        Blocks meanwhile. Raises FailedPrecondition for an active-active or stopped project, and
        DeadlineExceeded when the forward link did not catch up in time (it keeps running then,
        and A stays read-only if it was made so).
        """
        timeout_ms = max(0, round(timeout * 1000))
        with self._use() as h:
            _native.call(_native.function("duo_project_switchover"), h, 1 if read_only else 0,
                         timeout_ms)

    def replay(self, link, since):
        """Replays a link ("forward" / "reverse") from its record store: rewinds it to `since`
        and applies every stored transaction after it again, idempotently up to where the link had
        got (rows changed on the destination since come back to the source's state).

        `since` is a source commit time — a datetime (naive = UTC), a Unix timestamp (int/float),
        or a string "2026-11-24 10:00:00" (UTC) / RFC 3339 / "@<Unix seconds>" — or a GTID
        position string ("0-1-100"). A running link is stopped and restarted. Returns the GTID
        position rewound to. Raises OutOfRange when the store no longer holds `since`,
        FailedPrecondition when the link keeps no records (options.retention_hours and data_dir),
        InvalidArgument for an unreadable `since`, NotFound for an unknown link. Needs a library
        of 0.3.0 or later.
        """
        if isinstance(since, datetime.datetime):
            if since.tzinfo is None:
                since = since.replace(tzinfo=datetime.timezone.utc)
            since = "@%d" % int(since.timestamp())
        elif isinstance(since, (int, float)) and not isinstance(since, bool):
            since = "@%d" % int(since)
        with self._use() as h:
            _, position = _native.call(_native.function("duo_project_replay"), h, link.encode(),
                                       str(since).encode(), with_out=True)
        return position

    def listen(self, address="127.0.0.1:0"):
        """Serves this project's metrics and status over HTTP at `address` ("HOST:PORT"; port 0
        takes a free one): GET /metrics (Prometheus text format), GET /status (JSON). Returns the
        port bound. None (or "") stops the listener; a second call moves it. Raises
        InvalidArgument for a malformed address, Unavailable when it cannot bind. Needs a library
        of 0.4.0 or later.
        """
        port = ctypes.c_int(0)
        with self._use() as h:
            _native.call(_native.function("duo_project_listen"), h,
                         address.encode() if address else None, ctypes.byref(port))
        return port.value if address else None

    def verify(self, repair=False):
        """Compares the forward link's tables row by row, A against B (both may be live: chunk
        checksums inside each database, drilled down to rows, differing rows re-checked).

        Returns the report {"equal", "rows_checked", "seconds", "repaired", "tables": [{"table",
        "rows_checked", "chunks", "missing": [keys], "extra": [keys], "different": [keys]}],
        "repair": [SQL]}, keys written like "id=2". Differences are not raised: report["equal"]
        tells, and describes the sides before any repair. With repair=True the repair statements
        are applied to B. Raises only when the verification could not run (e.g. Unavailable).
        Blocks for its duration.
        """
        with self._use() as h:
            _, report = _native.call(_native.function("duo_project_verify"), h,
                                     1 if repair else 0, with_out=True,
                                     ok_codes=(Code.DATA_LOSS,))
        return json.loads(report)

    def on_event(self, callback):
        """Calls callback(event, data) for each event of the project; None unsubscribes. A new
        callable replaces the earlier one.

        `event` is "stage" (data {"link", "stage"}: a link changed stage, e.g. to
        "incremental"), "progress" (data: the status, as status() returns it, every second while
        the project runs), "conflict" (data: a conflict record, as in conflicts()), "error"
        (data {"link", "code", "error"}: a link stopped with an error) or "verify" (data
        {"tables_done", "tables_total", "rows_checked"} while verify() runs); an event number this
        package does not know comes as an int. Subscribe before start() to see the first stages.

        Threads: the callable runs on a thread of the library (one per project), never on the
        caller's; events come in order, one at a time, and queue up while it runs, so it should
        return quickly. It may call this project's methods, on_event and close() included
        (close() then frees the project on another thread once the callable returned). An
        exception it raises is logged to the "duosync" logger and the event is dropped; later
        events still come. Its return value is ignored. A replaced or cleared callable may still
        be running when on_event returns, but is not called again. close() clears the callback
        before anything else.
        """
        if callback is not None and not callable(callback):
            raise TypeError(f"on_event needs a callable or None, not {type(callback).__name__}")
        set_callback = _native.function("duo_project_set_event_callback")
        with self._events_lock, self._use() as h:
            if callback is None:
                if self._events is not None:
                    self._events.set(None)
                    _native.call(set_callback, h, _native.NO_EVENT_FN, None)
                return
            if self._events is None:
                self._events = _EventSink()
                _with_callbacks.add(self)
            self._events.set(callback)
            _native.call(set_callback, h, self._events.c_fn, None)

    def _detach_events(self, timeout):
        """Unsubscribes for good and waits up to `timeout` s for a callable in progress."""
        with self._events_lock:
            sink = self._events
            if sink is None:
                return
            sink.closed = True
            with self._use() as h:
                set_callback = _native.function("duo_project_set_event_callback")
                set_callback(h, _native.NO_EVENT_FN, None, None)
        sink.close(timeout)

    @property
    def closed(self):
        return not self._handle

    def close(self):
        """Stops the project if it runs and frees it. Safe to call more than once.

        The event callback is cleared first: once close() has begun, no callable is called
        again. Called on the library's event thread (from inside the event callable), close()
        returns before the project is freed: freeing waits for that thread, so it happens on
        another thread once the callable has returned.
        """
        with self._cond:
            handle, self._handle = self._handle, None
        if not handle:
            return
        lib = _native.lib()
        with self._events_lock:  # on_event calls from now on find the project closed
            sink = self._events
            if sink is not None:
                sink.closed = True
                _native.function("duo_project_set_event_callback")(
                    handle, _native.NO_EVENT_FN, None, None)
        # Stop is safe alongside other calls and makes a wait() in another thread return.
        lib.duo_project_stop(handle, None)
        # duo_project_destroy must not race with other calls on the handle.
        with self._cond:
            self._cond.wait_for(lambda: self._in_flight == 0)
        if sink is not None:
            _with_callbacks.discard(self)
            if sink.on_event_thread():
                # duo_project_destroy joins the thread running this very callable, so it runs
                # elsewhere. The thread holds `sink` (its C function pointer) until destroy
                # returned: the library may call it until then.
                def free(sink=sink):
                    lib.duo_project_destroy(handle)

                threading.Thread(target=free, name="duosync-close").start()
                return
            sink.close()
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
