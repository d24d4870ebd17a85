package topic

import (
	"strings"
	"testing"
)

// FuzzMapping checks, for any topic name and filter: the subject of a
// topic maps back to it, is a literal NATS subject and is what
// FilterSubjects gives for the topic as a filter; and a topic matches a
// filter by MQTT's rules exactly when its subject matches one of the
// filter's subjects by NATS's rules.
func FuzzMapping(f *testing.F) {
	for _, s := range [][2]string{{"a/b", "a/#"}, {"/", "+/+"}, {"a.b//c", "a.b/+/#"}, {"a", "a/#"}, {".", "+"}, {"a/", "a/+"}, {"/a", "/#"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, topic, filter string) {
		subj, err := AppendSubject(nil, []byte(topic))
		if err != nil {
			return
		}
		if back := AppendTopic(nil, subj); string(back) != topic {
			t.Fatalf("%q -> %q -> %q", topic, subj, back)
		}
		for _, tok := range strings.Split(string(subj), ".") {
			if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n") {
				t.Fatalf("%q -> %q: token %q is no literal NATS token", topic, subj, tok)
			}
		}
		if subs, err := FilterSubjects(topic); err != nil || len(subs) != 1 || subs[0] != string(subj) {
			t.Fatalf("FilterSubjects(%q) = %q, %v; want [%q]", topic, subs, err, subj)
		}
		subs, err := FilterSubjects(filter)
		if err != nil {
			return
		}
		nats := false
		for _, s := range subs {
			nats = nats || natsMatch(s, string(subj))
		}
		if mqtt := mqttMatch(filter, topic); mqtt != nats {
			t.Fatalf("filter %q topic %q: MQTT match %v, NATS match %v (%q on %q)", filter, topic, mqtt, nats, subs, subj)
		}
	})
}
