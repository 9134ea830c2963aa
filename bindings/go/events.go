package duosync

/*
#include <stdint.h>
#include "duosync.h"

// duoGoEvent is exported by events_export.go.
extern int duoGoEvent(int event, char* json, uintptr_t handle);

// The handle whose callback runs on this thread now, 0 outside callbacks: lets Close see that it
// is called from inside the callback.
static __thread uintptr_t duo_go_current_handle;

// The duo_event_fn given to the library. user_data carries a runtime/cgo.Handle, never a Go
// pointer.
static int duo_go_event_bridge(int event, const char* json, void* user_data) {
	uintptr_t outer = duo_go_current_handle;
	duo_go_current_handle = (uintptr_t)user_data;
	int rc = duoGoEvent(event, (char*)json, (uintptr_t)user_data);
	duo_go_current_handle = outer;
	return rc;
}

static int duo_go_set_event_callback(duo_project_t* project, uintptr_t handle, char** errptr) {
	return duo_project_set_event_callback(project, duo_go_event_bridge, (void*)handle, errptr);
}

static uintptr_t duo_go_running_handle(void) { return duo_go_current_handle; }
*/
import "C"

import (
	"encoding/json"
	"log"
	"runtime/cgo"
	"runtime/debug"
	"sync"
)

// Event kinds (Event.Kind), equal to the C DUO_EVENT_* numbers.
const (
	EventStage    = C.DUO_EVENT_STAGE    // JSON {"link", "stage"}: a link changed stage
	EventProgress = C.DUO_EVENT_PROGRESS // JSON: the status (see Status), every second while running
	EventConflict = C.DUO_EVENT_CONFLICT // JSON: a conflict record (see Conflicts)
	EventError    = C.DUO_EVENT_ERROR    // JSON {"link", "code", "error"}: a link stopped with an error
	EventVerify   = C.DUO_EVENT_VERIFY   // JSON {"tables_done", "tables_total", "rows_checked"} during Verify
)

// Event is one event of a project, as OnEvent's callback receives it.
type Event struct {
	Kind int            // EventStage, EventProgress, EventConflict, EventError, or a newer kind
	JSON map[string]any // the event's data, decoded
}

// OnEvent makes fn receive the project's events; nil unsubscribes. A new fn replaces the earlier
// one. Subscribe before Start to see the first stage changes. It returns an error of code
// FailedPrecondition once Close has begun.
//
// Threads: fn runs on a thread of the library (one per project), not on a goroutine of the
// caller's; events come in order, one at a time, and queue up while fn runs, so it should return
// quickly. fn may call the project's methods, OnEvent and Close included (see Close). A panic in
// fn is recovered and logged with the log package, and the event is dropped; later events still
// come. A replaced or cleared fn may still be running when OnEvent returns, but is not called
// again.
//
// The library holds fn until Close (through a runtime/cgo.Handle): a project whose fn refers to
// it stays reachable, and its finalizer never runs, so Close it explicitly.
func (p *Project) OnEvent(fn func(Event)) error {
	p.evMu.Lock()
	defer p.evMu.Unlock()
	if p.closing {
		return &Error{Code: FailedPrecondition, Message: "the project is closed"}
	}
	return p.do(func(h *C.duo_project_t, e **C.char) C.int {
		if fn == nil {
			if p.events == nil {
				return C.DUO_OK
			}
			p.events.set(nil)
			return C.duo_project_set_event_callback(h, nil, nil, e)
		}
		if p.events == nil {
			p.events = newEventSink()
		}
		p.events.set(fn)
		return C.duo_go_set_event_callback(h, C.uintptr_t(p.events.handle), e)
	})
}

// eventSink is the Go side of one project's C event callback. A project has at most one, and its
// cgo.Handle lives until the project is destroyed: after duo_project_set_event_callback replaces
// or clears a callback, the library may still be inside one call of it, so the handle given as
// its user_data must stay valid until duo_project_destroy returns, the only point after which the
// library promises no call. Replacing the callback only swaps fn.
type eventSink struct {
	handle cgo.Handle

	mu     sync.Mutex
	fn     func(Event) // nil drops events
	closed bool        // Close has begun: drop every event
	calls  sync.WaitGroup
}

func newEventSink() *eventSink {
	s := &eventSink{}
	s.handle = cgo.NewHandle(s)
	return s
}

func (s *eventSink) set(fn func(Event)) {
	s.mu.Lock()
	s.fn = fn
	s.mu.Unlock()
}

// deliver runs on the library's event thread.
func (s *eventSink) deliver(kind int, text string) {
	s.mu.Lock()
	fn := s.fn
	if fn == nil || s.closed {
		s.mu.Unlock()
		return
	}
	s.calls.Add(1) // under mu, so never after close() set closed and wait() began
	s.mu.Unlock()
	defer s.calls.Done()
	// A panic must not unwind into C.
	defer func() {
		if r := recover(); r != nil {
			log.Printf("duosync: the event callback panicked on event %d; the event is dropped: %v\n%s",
				kind, r, debug.Stack())
		}
	}()
	var data map[string]any
	if err := json.Unmarshal([]byte(text), &data); err != nil {
		log.Printf("duosync: event %d with bad JSON dropped: %v", kind, err)
		return
	}
	fn(Event{Kind: kind, JSON: data})
}

// close drops every later event.
func (s *eventSink) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

// wait waits for a callback in progress; only after close, and never on the event thread.
func (s *eventSink) wait() { s.calls.Wait() }

// onThisThread tells whether the caller runs inside this sink's callback: a goroutine running a
// callback from C stays on the C thread, and so do the C calls it makes.
func (s *eventSink) onThisThread() bool {
	return C.duo_go_running_handle() == C.uintptr_t(s.handle)
}

// release frees the handle, once duo_project_destroy has returned.
func (s *eventSink) release() { s.handle.Delete() }
