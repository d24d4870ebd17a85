package snapshot

// MonitorError is a bad monitoring request (an unknown sort option, a bad
// test subject...). Text is what upstream answers in the body of its 400
// response (and in the description of a $SYS error), kept apart from the
// Go error string. Providers return it for requests the caller got wrong;
// any other error is the server's fault (500).
type MonitorError struct {
	Text string
	Err  error // a sentinel such as server.ErrUnknownAccount, or nil
}

// Error returns Text with the package prefix.
func (e *MonitorError) Error() string { return "snapshot: " + e.Text }

// Unwrap returns the sentinel, if any.
func (e *MonitorError) Unwrap() error { return e.Err }
