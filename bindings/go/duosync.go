// Package duosync is the Go binding of duosync, which keeps two MySQL-compatible databases in
// sync, over its stable C ABI (capi/duosync.h).
//
// Configs are JSON (proto/duosync/config.proto); reports and status come back as maps decoded
// from the library's JSON (Status turns its 64-bit counters, which protobuf's JSON mapping writes
// as strings, into int64). Failed calls return an *Error carrying the C status
// code; compare with errors.Is(err, duosync.ErrInvalidArgument) and friends.
//
// # Building
//
// By default cgo uses the repository's header (capi/) and links the library in its build tree
// (build/libduosync.so, found at run time through an rpath). To use an installed library instead,
// either build with the duosync_system tag, which asks pkg-config for duosync.pc:
//
//	go build -tags duosync_system ./...
//
// or put its paths in front of the repository's ones:
//
//	CGO_CFLAGS=-I/usr/local/include CGO_LDFLAGS=-L/usr/local/lib go build ./...
//
// (at run time LD_LIBRARY_PATH, which the loader searches before the rpath, picks the library).
//
// # Threads
//
// A Project's methods may be called from several goroutines at once. The library runs the links,
// and calls an event callback (see Project.OnEvent), on threads of its own.
package duosync

// #include <stdlib.h>
// #include "duosync.h"
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"
	"unsafe"
)

// waitSlice bounds each blocking C wait, so that Wait notices its context ending.
const waitSlice = 250 * time.Millisecond

// defaultSwitchoverTimeout bounds Switchover when its context has no deadline.
const defaultSwitchoverTimeout = 60 * time.Second

// Version returns the loaded library's version, e.g. "0.4.0".
func Version() string { return C.GoString(C.duo_version()) }

// VersionNumber returns the loaded library's MAJOR*1000000 + MINOR*1000 + PATCH.
func VersionNumber() int { return int(C.duo_version_number()) }

// LogLevel is the least severe level the library logs (the DUO_LOG_* numbers).
type LogLevel int

// The log levels, equal to their C counterparts.
const (
	LogInfo    LogLevel = C.DUO_LOG_INFO
	LogWarning LogLevel = C.DUO_LOG_WARNING // the default
	LogError   LogLevel = C.DUO_LOG_ERROR
	LogNone    LogLevel = C.DUO_LOG_NONE
)

// SetLogLevel sets the least severe level the library logs, for the whole process. The library
// writes its logs to the process's stderr (glog), not through Go's log package; if the host
// initialized glog itself, its settings stay in charge of where they go. Passwords never appear
// in them. Levels below LogInfo count as LogInfo, above LogError as LogNone.
func SetLogLevel(level LogLevel) { C.duo_set_log_level(C.int(level)) }

// checkVersion refuses a library whose major version differs from the header's.
func checkVersion() error {
	if got := VersionNumber(); got/1000000 != C.DUO_VERSION_NUMBER/1000000 {
		return &Error{Code: FailedPrecondition, Message: fmt.Sprintf(
			"libduosync %s (version number %d) does not fit this binding, built for %d",
			Version(), got, C.DUO_VERSION_NUMBER)}
	}
	return nil
}

func decode(text string) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		return nil, fmt.Errorf("duosync: the library returned bad JSON: %w", err)
	}
	return m, nil
}

// Validate checks a config against every rule without creating a project. It returns the report
// {"ok", "errors": [{"field", "message", "fix"}], "warnings"}; an invalid config is reported there
// with a nil error.
func Validate(configJSON string) (map[string]any, error) {
	cs := C.CString(configJSON)
	defer C.free(unsafe.Pointer(cs))
	var report, msg *C.char
	err := toError(C.duo_validate(cs, C.size_t(len(configJSON)), &report, &msg), msg)
	text, ok := takeString(report)
	if err != nil && !(ok && errors.Is(err, ErrInvalidArgument)) {
		return nil, err
	}
	return decode(text)
}

// Project is a sync project. Its methods may be called from several goroutines at once.
type Project struct {
	// Write-locked only by Close: duo_project_destroy must not race with other calls.
	mu     sync.RWMutex
	handle *C.duo_project_t

	// evMu serializes OnEvent and guards events and closing.
	evMu    sync.Mutex
	events  *eventSink // set by the first OnEvent, released by Close
	closing bool       // Close has begun: OnEvent refuses
}

// Open parses and validates a config and creates a project in state "created". An invalid
// config returns an error of code InvalidArgument naming every broken rule.
func Open(configJSON string) (*Project, error) {
	if err := checkVersion(); err != nil {
		return nil, err
	}
	cs := C.CString(configJSON)
	defer C.free(unsafe.Pointer(cs))
	var handle *C.duo_project_t
	var msg *C.char
	if err := toError(C.duo_project_create(cs, C.size_t(len(configJSON)), &handle, &msg), msg); err != nil {
		return nil, err
	}
	p := &Project{handle: handle}
	// A safety net only: callers should Close, which also stops the links at a known time.
	runtime.SetFinalizer(p, (*Project).Close)
	return p, nil
}

// do runs fn on the live handle under the read lock.
func (p *Project) do(fn func(h *C.duo_project_t, errptr **C.char) C.int) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.handle == nil {
		return &Error{Code: FailedPrecondition, Message: "the project is closed"}
	}
	var msg *C.char
	return toError(fn(p.handle, &msg), msg)
}

// Precheck runs every precheck against the real endpoints (it blocks while it connects) and
// returns the report {"ok", "checks": [{"name", "endpoint", "link", "status", "message", "fix",
// "objects"}]}. Failed checks are not an error: report["ok"] is false then. The error is set only
// when the precheck could not run.
func (p *Project) Precheck() (map[string]any, error) {
	var report *C.char
	err := p.do(func(h *C.duo_project_t, e **C.char) C.int {
		return C.duo_project_precheck(h, &report, e)
	})
	text, ok := takeString(report)
	if err != nil && !(ok && errors.Is(err, ErrFailedPrecondition)) {
		return nil, err
	}
	return decode(text)
}

// Start starts the links in background threads and returns once each has durably recorded where
// it starts; an error of code FailedPrecondition if the project already runs. The C call cannot
// be interrupted: if ctx ends first, Start returns ctx.Err() at once and stops the project as
// soon as the call returns.
func (p *Project) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		done <- p.do(func(h *C.duo_project_t, e **C.char) C.int { return C.duo_project_start(h, e) })
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		go func() {
			if <-done == nil {
				_ = p.Stop()
			}
		}()
		return ctx.Err()
	}
}

// Stop stops all links and waits for their threads. Stopping a stopped project is fine.
func (p *Project) Stop() error {
	return p.do(func(h *C.duo_project_t, e **C.char) C.int { return C.duo_project_stop(h, e) })
}

// Pause pauses a running link ("forward" / "reverse"), or every link when link is "": it stops
// after its current work and reports stage "paused". ErrNotFound for an unknown link,
// ErrFailedPrecondition when the project does not run.
func (p *Project) Pause(link string) error {
	return p.linkCall(link, func(h *C.duo_project_t, l *C.char, e **C.char) C.int { return C.duo_project_pause(h, l, e) })
}

// Resume restarts a paused link (or every paused link when link is "") from its checkpoint.
func (p *Project) Resume(link string) error {
	return p.linkCall(link, func(h *C.duo_project_t, l *C.char, e **C.char) C.int { return C.duo_project_resume(h, l, e) })
}

func (p *Project) linkCall(link string, fn func(*C.duo_project_t, *C.char, **C.char) C.int) error {
	var cl *C.char
	if link != "" {
		cl = C.CString(link)
		defer C.free(unsafe.Pointer(cl))
	}
	return p.do(func(h *C.duo_project_t, e **C.char) C.int { return fn(h, cl, e) })
}

// Wait waits for the links to end by themselves (a failure, or a finished data migration) or for
// ctx to end. It returns nil when they ended well, the first link's error, or ctx.Err().
func (p *Project) Wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := p.do(func(h *C.duo_project_t, e **C.char) C.int {
			return C.duo_project_wait(h, C.int64_t(waitSlice.Milliseconds()), e)
		})
		if !errors.Is(err, ErrDeadlineExceeded) {
			return err
		}
	}
}

// Status returns {"name", "scenario", "state", "endpoint_a", "endpoint_b", "links": [{"name",
// "stage", "source", "destination", "position", "lag_seconds", "rows_per_second",
// "transactions_applied", "rows_applied", "last_error", "filtered_tables", ...}]}. Passwords are
// masked. Counters (transactions_applied, rows_applied, conflicts, reconnects, ...) are int64;
// lag_seconds and rows_per_second float64. In coordinated mode each link also has "owner_member"
// and "takeovers" ([{"at_unix_ms", "from_member", "unowned_seconds", "epoch"}]), stage "standby"
// where another process runs it, and the project a "coordination" object ({"member", "members",
// "lease_held", ...}).
func (p *Project) Status() (map[string]any, error) {
	var status *C.char
	err := p.do(func(h *C.duo_project_t, e **C.char) C.int {
		return C.duo_project_status(h, &status, e)
	})
	text, _ := takeString(status)
	if err != nil {
		return nil, err
	}
	m, err := decode(text)
	if err != nil {
		return nil, err
	}
	typeCounters(m)
	return m, nil
}

// typeCounters turns a status's 64-bit counters, which protobuf's JSON mapping writes as strings,
// into int64 values.
func typeCounters(status map[string]any) {
	toInt := func(m map[string]any, names ...string) {
		for _, name := range names {
			if s, ok := m[name].(string); ok {
				if n, err := strconv.ParseInt(s, 10, 64); err == nil {
					m[name] = n
				}
			}
		}
	}
	links, _ := status["links"].([]any)
	for _, l := range links {
		link, ok := l.(map[string]any)
		if !ok {
			continue
		}
		toInt(link, "transactions_applied", "rows_applied", "echoes_dropped", "conflicts",
			"full_rows_copied", "full_rows_estimated", "epoch", "reconnects")
		if store, ok := link["store"].(map[string]any); ok {
			toInt(store, "bytes", "transactions")
		}
		outcomes, _ := link["conflicts_by_outcome"].([]any)
		for _, o := range outcomes {
			if outcome, ok := o.(map[string]any); ok {
				toInt(outcome, "count")
			}
		}
		// Coordinated mode: who took the link over, when, and how long it had no owner.
		takeovers, _ := link["takeovers"].([]any)
		for _, t := range takeovers {
			if takeover, ok := t.(map[string]any); ok {
				toInt(takeover, "at_unix_ms", "epoch")
			}
		}
	}
}

// Conflicts returns the conflicts met by the links (active-active projects meet them), the
// latest 1000 per link: {"forward": {"total": N, "conflicts": [{"link", "table", "key",
// "operation", "incoming_before", "incoming_after", "destination", "policy", "outcome",
// "time"}]}, "reverse": {...}}, one entry per link the project started ("total" counts them all,
// also those no longer listed).
func (p *Project) Conflicts() (map[string]any, error) {
	var conflicts *C.char
	err := p.do(func(h *C.duo_project_t, e **C.char) C.int {
		return C.duo_project_conflicts(h, &conflicts, e)
	})
	text, _ := takeString(conflicts)
	if err != nil {
		return nil, err
	}
	return decode(text)
}

// Switchover swaps the roles of a running one-way (DATA_MIGRATION) project, making B the source.
// With readOnly, A is made read-only first (SET GLOBAL read_only=ON; it stays so afterwards).
// Then it waits until the forward link has applied everything A wrote, stops it, and starts the
// reverse link B -> A from B's current position.
//
// The wait lasts until ctx's deadline, or 60 s when ctx has none; an error of code
// DeadlineExceeded says the forward link did not catch up in time (it keeps running, and A stays
// read-only if it was made so). An error of code FailedPrecondition means an active-active or
// stopped project. The C call cannot be interrupted: ctx is looked at before it begins (an ended
// ctx returns ctx.Err()), and a cancellation afterwards is not seen, because abandoning a
// switchover half-way would leave the roles unknown to the caller.
func (p *Project) Switchover(ctx context.Context, readOnly bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	timeout := defaultSwitchoverTimeout
	if deadline, ok := ctx.Deadline(); ok {
		if timeout = time.Until(deadline); timeout <= 0 {
			return context.DeadlineExceeded
		}
	}
	ro := C.int(0)
	if readOnly {
		ro = 1
	}
	return p.do(func(h *C.duo_project_t, e **C.char) C.int {
		return C.duo_project_switchover(h, ro, C.int64_t(timeout.Milliseconds()), e)
	})
}

// Replay replays a link ("forward" / "reverse") from its record store: it rewinds the link to
// `since` and applies every stored transaction after it again, idempotently up to where the link
// had got, so rows changed on the destination since come back to the source's state. `since` is
// a GTID position ("0-1-100") or a source commit time: "2026-11-24 10:00:00" (UTC), RFC 3339 or
// "@<Unix seconds>" (see ReplaySince for a time.Time). A running link is stopped and restarted.
// It returns the GTID position rewound to; errors wrap ErrOutOfRange when the store no longer
// holds `since` and ErrFailedPrecondition when the link keeps no records.
func (p *Project) Replay(link, since string) (string, error) {
	cl, cs := C.CString(link), C.CString(since)
	defer C.free(unsafe.Pointer(cl))
	defer C.free(unsafe.Pointer(cs))
	var position *C.char
	err := p.do(func(h *C.duo_project_t, e **C.char) C.int {
		return C.duo_project_replay(h, cl, cs, &position, e)
	})
	text, _ := takeString(position)
	return text, err
}

// Listen serves the project's metrics and status over HTTP at address ("HOST:PORT"; port 0 takes
// a free one): GET /metrics in Prometheus' text format, GET /status as JSON. It returns the port
// bound; an empty address stops the listener. Needs a library of 0.4.0 or later.
func (p *Project) Listen(address string) (int, error) {
	var ca *C.char
	if address != "" {
		ca = C.CString(address)
		defer C.free(unsafe.Pointer(ca))
	}
	var port C.int
	err := p.do(func(h *C.duo_project_t, e **C.char) C.int {
		return C.duo_project_listen(h, ca, &port, e)
	})
	return int(port), err
}

// ReplaySince is Replay from a source commit time.
func (p *Project) ReplaySince(link string, t time.Time) (string, error) {
	return p.Replay(link, fmt.Sprintf("@%d", t.Unix()))
}

// Verify compares the forward link's tables row by row, A against B, while both may be live
// (chunk checksums inside each database, drilled down to rows, differing rows re-checked). It
// blocks for the duration and returns the report {"equal", "rows_checked", "seconds", "repaired",
// "tables": [{"table", "rows_checked", "chunks", "missing": [keys], "extra": [keys],
// "different": [keys]}], "repair": [SQL]}, keys written like "id=2"; JSON numbers are float64.
//
// Differences are not an error: report["equal"] is false then, and describes the sides before
// any repair. With repair, the repair statements are applied to B. The error is set only when the
// verification could not run (e.g. Unavailable).
func (p *Project) Verify(repair bool) (map[string]any, error) {
	r := C.int(0)
	if repair {
		r = 1
	}
	var report *C.char
	err := p.do(func(h *C.duo_project_t, e **C.char) C.int {
		return C.duo_project_verify(h, r, &report, e)
	})
	text, ok := takeString(report)
	if err != nil && !(ok && errors.Is(err, ErrDataLoss)) {
		return nil, err
	}
	return decode(text)
}

// Close stops the project if it runs, waits for calls in flight on other goroutines and frees
// it. Closing again is a no-op; other methods of a closed project return FailedPrecondition.
//
// The event callback is cleared first: once Close has begun, it is not called again, and Close
// waits for a call in progress to return. Called from inside the event callback, Close returns
// before the project is freed: freeing waits for the library's event thread, the one running the
// callback, so it happens on another goroutine once the callback has returned.
func (p *Project) Close() error {
	p.evMu.Lock()
	p.closing = true
	sink := p.events
	p.evMu.Unlock()
	onEventThread := false
	if sink != nil {
		sink.close()
		onEventThread = sink.onThisThread()
	}

	// Stop under the read lock: it may run alongside other calls, and makes a Wait return sooner.
	p.mu.RLock()
	if p.handle != nil {
		if sink != nil {
			C.duo_project_set_event_callback(p.handle, nil, nil, nil)
		}
		C.duo_project_stop(p.handle, nil)
	}
	p.mu.RUnlock()
	if sink != nil && !onEventThread {
		// A callback in progress may call the project's methods: they need the read lock.
		sink.wait()
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.handle == nil {
		return nil
	}
	handle := p.handle
	p.handle = nil
	runtime.SetFinalizer(p, nil)
	if onEventThread {
		// duo_project_destroy joins the thread this callback runs on.
		go func() {
			C.duo_project_destroy(handle)
			sink.release()
		}()
		return nil
	}
	C.duo_project_destroy(handle)
	if sink != nil {
		sink.release() // no call comes after duo_project_destroy
	}
	return nil
}
