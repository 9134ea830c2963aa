package duosync

// This file holds the //export only: a file with one may not define C functions in its preamble.

// #include <stdint.h>
import "C"

import "runtime/cgo"

// duoGoEvent receives the project's events from the C bridge in events.go, on the library's event
// thread. handle is the project's eventSink's cgo.Handle, valid until the project is destroyed,
// after which the library makes no call. It always returns 0: a non-zero return would unsubscribe
// whichever callback is set by the time the library looks at it, possibly a newer one.
//
//export duoGoEvent
func duoGoEvent(event C.int, json *C.char, handle C.uintptr_t) C.int {
	cgo.Handle(handle).Value().(*eventSink).deliver(int(event), C.GoString(json))
	return 0
}
