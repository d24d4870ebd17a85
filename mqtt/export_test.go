package mqtt

// LoopSupported: plain TCP clients are served by the event loop here.
const LoopSupported = loopSupported

// Served counts the connections m serves and, of them, those the event
// loop serves now.
func Served(m *MQTT) (all, onLoop int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for c := range m.conns {
		all++
		if c.lc != nil && c.lc.onLoop() {
			onLoop++
		}
	}
	return all, onLoop
}
