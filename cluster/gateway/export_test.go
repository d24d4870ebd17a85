package gateway

// SetMaxNoInterest lowers the number of RS- before an account switches to
// interest-only mode, for tests.
func SetMaxNoInterest(gw *Gateway, n int) { gw.maxNoInterest.Store(int64(n)) }
