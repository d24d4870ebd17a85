package api

import (
	"strconv"
	"strings"
)

// Error is a JetStream API error: an HTTP-like Code, the ErrCode that
// identifies it (ADR-7) and its Description.
type Error struct {
	Code        int    `json:"code"`
	ErrCode     uint16 `json:"err_code,omitempty"`
	Description string `json:"description,omitempty"`
}

// Error returns the description and the codes.
func (e *Error) Error() string {
	return e.Description + " (" + strconv.Itoa(e.Code) + "/" + strconv.Itoa(int(e.ErrCode)) + ")"
}

// Is matches errors with the same ErrCode, so errors.Is(err, ErrX) holds
// for every instance of ErrX, whatever its filled-in description.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.ErrCode == e.ErrCode
}

// With returns a copy of e whose description has every "{key}"
// replaced by the value that follows it in kv: the "F" errors of the
// table carry such placeholders ({err}, {seq}, {subject}, ...).
func (e *Error) With(kv ...string) *Error {
	d := e.Description
	for i := 0; i+1 < len(kv); i += 2 {
		d = strings.ReplaceAll(d, "{"+kv[i]+"}", kv[i+1])
	}
	return &Error{Code: e.Code, ErrCode: e.ErrCode, Description: d}
}

// WithErr is With("err", err.Error()).
func (e *Error) WithErr(err error) *Error { return e.With("err", err.Error()) }
