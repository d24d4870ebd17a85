package monitor

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"natsd.dev/server/snapshot"
)

// appendConnz appends the JSON of cz to dst, byte for byte what
// json.MarshalIndent(cz, "", "  ") produces (a test holds it to that), in
// a fraction of the time: /connz is the endpoint polled hardest and the
// one with the largest documents.
func appendConnz(dst []byte, cz *snapshot.Connz) []byte {
	w := jw{b: dst}
	w.open('{')
	w.key("server_id")
	w.str(cz.ID)
	w.key("now")
	w.time(cz.Now)
	w.key("num_connections")
	w.int(int64(cz.NumConns))
	w.key("total")
	w.int(int64(cz.Total))
	w.key("offset")
	w.int(int64(cz.Offset))
	w.key("limit")
	w.int(int64(cz.Limit))
	w.key("connections")
	if cz.Conns == nil {
		w.raw("null")
	} else {
		w.open('[')
		for _, ci := range cz.Conns {
			w.elem()
			if ci == nil {
				w.raw("null")
				continue
			}
			w.connInfo(ci)
		}
		w.close(']')
	}
	w.close('}')
	return w.b
}

// jw writes indented JSON: it tracks the depth and whether the current
// object or array already has a member.
type jw struct {
	b     []byte
	depth int
	first bool // no member yet at this depth
}

func (w *jw) newline() {
	w.b = append(w.b, '\n')
	for range w.depth {
		w.b = append(w.b, ' ', ' ')
	}
}

func (w *jw) open(c byte) {
	w.b = append(w.b, c)
	w.depth++
	w.first = true
}

func (w *jw) close(c byte) {
	w.depth--
	if !w.first { // non-empty: the closing bracket goes on its own line
		w.newline()
	}
	w.b = append(w.b, c)
	w.first = false
}

// elem starts an array element.
func (w *jw) elem() {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
	w.newline()
}

// key starts an object member.
func (w *jw) key(k string) {
	w.elem()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':', ' ')
}

func (w *jw) raw(s string) { w.b = append(w.b, s...) }

func (w *jw) int(v int64) { w.b = strconv.AppendInt(w.b, v, 10) }

func (w *jw) uint(v uint64) { w.b = strconv.AppendUint(w.b, v, 10) }

// str writes s as encoding/json does: quotes and backslashes escaped, <,
// > and & as \u003c, \u003e and \u0026 (subjects are full of '>').
// Control bytes and non-ASCII (invalid UTF-8, U+2028, U+2029) take the
// slow path through encoding/json itself.
func (w *jw) str(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf {
			b, _ := json.Marshal(s) // a string always marshals
			w.b = append(w.b, b...)
			return
		}
	}
	w.b = append(w.b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '"':
			esc = `\"`
		case '\\':
			esc = `\\`
		case '<':
			esc = `\u003c`
		case '>':
			esc = `\u003e`
		case '&':
			esc = `\u0026`
		default:
			continue
		}
		w.b = append(w.b, s[start:i]...)
		w.b = append(w.b, esc...)
		start = i + 1
	}
	w.b = append(w.b, s[start:]...)
	w.b = append(w.b, '"')
}

func (w *jw) time(t time.Time) {
	if y := t.Year(); y < 0 || y > 9999 {
		b, err := json.Marshal(t)
		if err != nil {
			b = []byte("null")
		}
		w.b = append(w.b, b...)
		return
	}
	w.b = append(w.b, '"')
	w.b = t.AppendFormat(w.b, time.RFC3339Nano)
	w.b = append(w.b, '"')
}

func (w *jw) optStr(k, v string) {
	if v != "" {
		w.key(k)
		w.str(v)
	}
}

func (w *jw) connInfo(ci *snapshot.ConnInfo) {
	w.open('{')
	w.key("cid")
	w.uint(ci.Cid)
	w.optStr("kind", ci.Kind)
	w.optStr("type", ci.Type)
	w.key("ip")
	w.str(ci.IP)
	w.key("port")
	w.int(int64(ci.Port))
	w.key("start")
	w.time(ci.Start)
	w.key("last_activity")
	w.time(ci.LastActivity)
	if ci.Stop != nil {
		w.key("stop")
		w.time(*ci.Stop)
	}
	w.optStr("reason", ci.Reason)
	w.optStr("rtt", ci.RTT)
	w.key("uptime")
	w.str(ci.Uptime)
	w.key("idle")
	w.str(ci.Idle)
	w.key("pending_bytes")
	w.int(int64(ci.Pending))
	w.key("in_msgs")
	w.int(ci.InMsgs)
	w.key("out_msgs")
	w.int(ci.OutMsgs)
	w.key("in_bytes")
	w.int(ci.InBytes)
	w.key("out_bytes")
	w.int(ci.OutBytes)
	w.key("subscriptions")
	w.uint(uint64(ci.NumSubs))
	w.optStr("name", ci.Name)
	w.optStr("lang", ci.Lang)
	w.optStr("version", ci.Version)
	w.optStr("tls_version", ci.TLSVersion)
	w.optStr("tls_cipher_suite", ci.TLSCipher)
	w.optStr("authorized_user", ci.AuthorizedUser)
	w.optStr("account", ci.Account)
	if len(ci.Subs) > 0 {
		w.key("subscriptions_list")
		w.open('[')
		for _, s := range ci.Subs {
			w.elem()
			w.str(s)
		}
		w.close(']')
	}
	if len(ci.SubsDetail) > 0 {
		w.key("subscriptions_list_detail")
		w.open('[')
		for i := range ci.SubsDetail {
			w.elem()
			w.subDetail(&ci.SubsDetail[i])
		}
		w.close(']')
	}
	w.optStr("mqtt_client", ci.MQTTClient)
	w.close('}')
}

func (w *jw) subDetail(sd *snapshot.SubDetail) {
	w.open('{')
	w.optStr("account", sd.Account)
	w.key("subject")
	w.str(sd.Subject)
	w.optStr("qgroup", sd.Queue)
	w.key("sid")
	w.str(sd.Sid)
	w.key("msgs")
	w.int(sd.Msgs)
	if sd.Max != 0 {
		w.key("max")
		w.int(sd.Max)
	}
	w.key("cid")
	w.uint(sd.Cid)
	w.close('}')
}
