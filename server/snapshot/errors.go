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

// HealthError is the error a health checker (server.HealthChecker)
// returns to say more than "unavailable": the HTTP status (404 for an
// account, stream or consumer that HealthzOptions names and that does not
// exist), the status word and every problem, as a detailed /healthz lists
// them. Its Error is the first problem's text, which a /healthz without
// details answers.
type HealthError struct {
	StatusCode int    // 0 means 503
	Status     string // "" means "unavailable"
	Errors     []HealthzError
}

// Error returns the first problem's text.
func (e *HealthError) Error() string {
	if len(e.Errors) == 0 {
		return "unavailable"
	}
	return e.Errors[0].Error
}
