package gateway

// SetMaxNoInterest lowers the number of RS- before an account switches to
// interest-only mode, for tests.
func SetMaxNoInterest(gw *Gateway, n int) { gw.maxNoInterest.Store(int64(n)) }

// KeepOptimistic makes gw behave as a server before 2.9 for the
// connections it accepts from now on: no gateway_iom in its INFO, no
// switch of every account to interest-only mode.
func KeepOptimistic(gw *Gateway) { gw.optimistic.Store(true) }

// GRHash is upstream's 6-character hash of a gateway name or server ID,
// as mapped replies carry it.
var GRHash = grHash

// GRSubs counts the entries of the reply mapping's own interest
// (_GR_.<remote hash>.>, one per account) the registered outbound
// connections hold.
func GRSubs(gw *Gateway) int {
	n := 0
	for _, c := range gw.outbound() {
		n += int(c.grSubs.Load())
	}
	return n
}
