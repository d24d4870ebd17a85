package server

import (
	"errors"

	"natsd.dev/confparse"
)

// Errors of configuration processing, shared by the config package and the
// modules that register configuration blocks with it.
var (
	// ErrUnknownField marks a key that nats-server does not know either;
	// upstream refuses to start on it, and so do we.
	ErrUnknownField = errors.New("server: unknown field")
	// ErrNotSupported marks a key or option nats-server knows but natsd
	// does not implement yet (jetstream, gateway, ...). It is an error, not
	// a warning: the user expects the feature to be on.
	ErrNotSupported = errors.New("server: not supported yet")
	// ErrBadValue marks a value of the wrong type or out of range. It is
	// confparse.ErrBadValue, which confparse.Decoder reports.
	ErrBadValue = confparse.ErrBadValue
	// ErrConfigWarning marks a warning: the value was used or ignored, but
	// the file should be fixed. It is confparse.ErrWarning.
	ErrConfigWarning = confparse.ErrWarning
)
