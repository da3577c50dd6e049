package pigeonhole

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error class. Its string form travels to
// clients (JSON "code"), and Number is what travels in the RPC Code field, so
// neither may ever change for an existing code.
type Code string

// The closed set of error codes.
const (
	CodeInvalidArgument  Code = "invalid_argument"
	CodeTooLarge         Code = "too_large"
	CodeNotFound         Code = "not_found"
	CodeConflict         Code = "conflict"
	CodeUnauthenticated  Code = "unauthenticated"
	CodePermissionDenied Code = "permission_denied"
	CodeRateLimited      Code = "rate_limited"
	CodeUnavailable      Code = "unavailable"
	CodeDeadlineExceeded Code = "deadline_exceeded"
	CodeInternal         Code = "internal"
)

// codeNumbers fixes the wire number of every code. Zero means success on the
// wire, so no code has it.
var codeNumbers = map[Code]int32{
	CodeInvalidArgument:  1,
	CodeTooLarge:         2,
	CodeNotFound:         3,
	CodeConflict:         4,
	CodeUnauthenticated:  5,
	CodePermissionDenied: 6,
	CodeRateLimited:      7,
	CodeUnavailable:      8,
	CodeDeadlineExceeded: 9,
	CodeInternal:         10,
}

// Number is the code's stable wire number (never 0).
func (c Code) Number() int32 {
	if n, ok := codeNumbers[c]; ok {
		return n
	}
	return codeNumbers[CodeInternal]
}

// CodeFromNumber is the inverse of Number; unknown numbers are internal.
func CodeFromNumber(n int32) Code {
	for c, v := range codeNumbers {
		if v == n {
			return c
		}
	}
	return CodeInternal
}

// Error is the domain error. Message is written for the client; Cause, if
// any, is for logs only and never leaves the process.
type Error struct {
	Code    Code
	Message string
	Cause   error
}

// Errorf builds an Error whose message is written for the client.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap builds an Error with a client message and an internal cause.
func Wrap(code Code, cause error, message string) *Error {
	return &Error{Code: code, Message: message, Cause: cause}
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap exposes the internal cause to errors.Is/As.
func (e *Error) Unwrap() error { return e.Cause }

// ErrorCode returns the code of err: the Code of the first *Error in its
// chain, or internal for any other non-nil error, or "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the client-safe message of err. Errors that are not
// *Error never show their text: they may carry driver or stack details.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
