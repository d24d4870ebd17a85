package mqtt

import (
	"errors"
	"fmt"
	"reflect"
)

// ErrReloadUnsupported is returned (wrapped, naming the key) by Reload for
// a change it cannot apply to a running front end.
var ErrReloadUnsupported = errors.New("mqtt: config reload not supported")

// Reload applies a new mqtt {} block to the running front end, the keys
// upstream reloads:
//
//   - ack_wait, max_ack_pending, stream_replicas, consumer_replicas,
//     consumer_memory_storage and consumer_inactive_threshold: the
//     streams and consumers created from now on (a session's
//     subscriptions made after the reload, new sessions) use them, and a
//     client connecting from now on gets the new max_ack_pending as its
//     window; what exists keeps its settings, as upstream's;
//   - tls {} (certificates, CA, verification): the next TLS handshakes.
//
// Any other difference (the listener's address, turning TLS on or off,
// verify_and_map, the TLS timeout, the block's authorization and
// no_auth_user, the JetStream domain and API timeout, the QoS 2 options)
// is refused with an error wrapping ErrReloadUnsupported, and nothing
// changes.
func (m *MQTT) Reload(o Options) error {
	o.normalize()
	old := m.opts()
	if (old.TLSConfig == nil) != (o.TLSConfig == nil) {
		return fmt.Errorf("%w for tls: turning TLS on or off needs a restart", ErrReloadUnsupported)
	}
	a, b := *old, o
	for _, x := range []*Options{&a, &b} {
		x.TLSConfig = nil
		x.AckWait, x.MaxAckPending = 0, 0
		x.StreamReplicas, x.ConsumerReplicas = 0, 0
		x.ConsumerMemoryStorage, x.ConsumerInactiveThreshold = false, 0
	}
	if !reflect.DeepEqual(a, b) {
		return fmt.Errorf("%w: a key other than ack_wait, max_ack_pending, the replicas, consumer storage, inactive threshold and tls certificates changed", ErrReloadUnsupported)
	}
	m.opt.Store(&o)
	return nil
}
