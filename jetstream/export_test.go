package jetstream

import "time"

// SetTransferTimeouts changes the snapshot and restore timeouts for a
// test and returns what restores them.
func SetTransferTimeouts(interest, flow, idle time.Duration) (undo func()) {
	i, f, d := snapInterestWait, snapFlowTimeout, restoreIdle
	snapInterestWait, snapFlowTimeout, restoreIdle = interest, flow, idle
	return func() { snapInterestWait, snapFlowTimeout, restoreIdle = i, f, d }
}
