package mqtt

import "testing"

func TestAckInfo(t *testing.T) {
	for _, tc := range []struct {
		reply          string
		seq, delivered uint64
		ts             int64
	}{
		{"$JS.ACK.$MQTT_msgs.abc_def.3.42.7.1700000000000000000.5", 42, 3, 1700000000000000000},
		{"$JS.ACK.hub.ACCHASH.$MQTT_msgs.abc_def.1.9.9.1700000000000000001.0.rnd", 9, 1, 1700000000000000001},
		{"not.an.ack", 0, 0, 0},
	} {
		seq, d, ts := ackInfo([]byte(tc.reply))
		if seq != tc.seq || d != tc.delivered || ts != tc.ts {
			t.Errorf("%s: got %d %d %d", tc.reply, seq, d, ts)
		}
	}
}
