package duosync

// #include <stdlib.h>
// #include "duosync.h"
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// Code is a duosync status code: the DUO_* numbers of capi/duosync.h (absl::StatusCode's).
type Code int

// The status codes, equal to their C counterparts.
const (
	OK                 Code = C.DUO_OK
	Cancelled          Code = C.DUO_CANCELLED
	Unknown            Code = C.DUO_UNKNOWN
	InvalidArgument    Code = C.DUO_INVALID_ARGUMENT
	DeadlineExceeded   Code = C.DUO_DEADLINE_EXCEEDED
	NotFound           Code = C.DUO_NOT_FOUND
	AlreadyExists      Code = C.DUO_ALREADY_EXISTS
	PermissionDenied   Code = C.DUO_PERMISSION_DENIED
	ResourceExhausted  Code = C.DUO_RESOURCE_EXHAUSTED
	FailedPrecondition Code = C.DUO_FAILED_PRECONDITION
	Aborted            Code = C.DUO_ABORTED
	OutOfRange         Code = C.DUO_OUT_OF_RANGE
	Unimplemented      Code = C.DUO_UNIMPLEMENTED
	Internal           Code = C.DUO_INTERNAL
	Unavailable        Code = C.DUO_UNAVAILABLE
	DataLoss           Code = C.DUO_DATA_LOSS
	Unauthenticated    Code = C.DUO_UNAUTHENTICATED
)

var codeNames = map[Code]string{
	OK: "OK", Cancelled: "CANCELLED", Unknown: "UNKNOWN", InvalidArgument: "INVALID_ARGUMENT",
	DeadlineExceeded: "DEADLINE_EXCEEDED", NotFound: "NOT_FOUND", AlreadyExists: "ALREADY_EXISTS",
	PermissionDenied: "PERMISSION_DENIED", ResourceExhausted: "RESOURCE_EXHAUSTED",
	FailedPrecondition: "FAILED_PRECONDITION", Aborted: "ABORTED", OutOfRange: "OUT_OF_RANGE",
	Unimplemented: "UNIMPLEMENTED", Internal: "INTERNAL", Unavailable: "UNAVAILABLE",
	DataLoss: "DATA_LOSS", Unauthenticated: "UNAUTHENTICATED",
}

func (c Code) String() string {
	if name, ok := codeNames[c]; ok {
		return name
	}
	return fmt.Sprintf("CODE_%d", int(c))
}

// Error is a failed duosync call.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "duosync: " + e.Code.String()
	}
	return fmt.Sprintf("duosync: %s [%s]", e.Message, e.Code)
}

// Is reports whether target is the sentinel of e's code, so that
// errors.Is(err, duosync.ErrInvalidArgument) holds for any message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// Sentinels for errors.Is; they match every *Error of their code.
var (
	ErrCancelled          = &Error{Code: Cancelled}
	ErrUnknown            = &Error{Code: Unknown}
	ErrInvalidArgument    = &Error{Code: InvalidArgument}
	ErrDeadlineExceeded   = &Error{Code: DeadlineExceeded}
	ErrNotFound           = &Error{Code: NotFound}
	ErrAlreadyExists      = &Error{Code: AlreadyExists}
	ErrPermissionDenied   = &Error{Code: PermissionDenied}
	ErrResourceExhausted  = &Error{Code: ResourceExhausted}
	ErrFailedPrecondition = &Error{Code: FailedPrecondition}
	ErrAborted            = &Error{Code: Aborted}
	ErrOutOfRange         = &Error{Code: OutOfRange}
	ErrUnimplemented      = &Error{Code: Unimplemented}
	ErrInternal           = &Error{Code: Internal}
	ErrUnavailable        = &Error{Code: Unavailable}
	ErrDataLoss           = &Error{Code: DataLoss}
	ErrUnauthenticated    = &Error{Code: Unauthenticated}
)

// CodeOf returns the code of the first *Error in err's chain: OK for nil, Unknown for other errors.
func CodeOf(err error) Code {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Unknown
}

// toError turns a C status and its error message into an error, freeing the message.
func toError(code C.int, msg *C.char) error {
	text, _ := takeString(msg)
	if code == C.DUO_OK {
		return nil
	}
	return &Error{Code: Code(code), Message: text}
}

// takeString copies a caller-owned C string into Go and frees it.
func takeString(s *C.char) (string, bool) {
	if s == nil {
		return "", false
	}
	defer C.duo_free(unsafe.Pointer(s))
	return C.GoString(s), true
}
