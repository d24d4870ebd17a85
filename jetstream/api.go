package jetstream

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"natsd.dev/jetstream/api"
	"natsd.dev/jetstream/internal/hdr"
	"natsd.dev/server"
)

// apiCall is one API request being answered.
type apiCall struct {
	acc     *account
	subject string // as received
	op      string // the part after "$JS.API." (or "$JS.<domain>.API.")
	reply   string
	hdr     []byte
	data    []byte
	req     server.Requester
}

// handleAPI answers a request on $JS.API.> of the account. It runs on the
// account's API session.
func (a *account) handleAPI(m *server.Msg) {
	if len(m.Reply) == 0 {
		return // upstream answers nothing without a reply subject
	}
	c := &apiCall{acc: a, subject: string(m.Subject), reply: string(m.Reply), hdr: m.Header, data: m.Data}
	c.op = stripAPIPrefix(c.subject, a.js.opts.Domain)
	c.hdr = bytes.Clone(c.hdr)
	c.data = bytes.Clone(c.data)
	for _, r := range rawRoutes {
		if rest, ok := strings.CutPrefix(c.op, r.prefix); ok {
			r.fn(c, rest) // not audited: the requester is not needed
			return
		}
	}
	c.req = m.Requester()
	a.js.apiTotal.Add(1)
	a.apiTotal.Add(1)
	a.dispatch(c)
}

func stripAPIPrefix(subj, domain string) string {
	if r, ok := strings.CutPrefix(subj, "$JS.API."); ok {
		return r
	}
	if domain != "" {
		if r, ok := strings.CutPrefix(subj, "$JS."+domain+".API."); ok {
			return r
		}
	}
	return subj
}

// route is an API call: its operation tokens and handler.
type route struct {
	prefix string // e.g. "STREAM.CREATE."; a full op without trailing '.'
	arg    bool   // the rest is a stream name (one token); without arg, a prefix ending in '.' takes the rest, whatever its tokens
	rtype  string // response type, for errors
	fn     func(c *apiCall, name string)
}

var routes []route

func init() {
	routes = []route{
		{"INFO", false, api.TypeAccountInfoResponse, (*apiCall).accountInfo},
		{"STREAM.CREATE.", true, api.TypeStreamCreateResponse, (*apiCall).streamCreate},
		{"STREAM.UPDATE.", true, api.TypeStreamUpdateResponse, (*apiCall).streamUpdate},
		{"STREAM.DELETE.", true, api.TypeStreamDeleteResponse, (*apiCall).streamDelete},
		{"STREAM.INFO.", true, api.TypeStreamInfoResponse, (*apiCall).streamInfo},
		{"STREAM.NAMES", false, api.TypeStreamNamesResponse, (*apiCall).streamNames},
		{"STREAM.LIST", false, api.TypeStreamListResponse, (*apiCall).streamList},
		{"STREAM.PURGE.", true, api.TypeStreamPurgeResponse, (*apiCall).streamPurge},
		{"STREAM.MSG.GET.", true, api.TypeStreamMsgGetResponse, (*apiCall).msgGet},
		{"STREAM.MSG.DELETE.", true, api.TypeStreamMsgDeleteResp, (*apiCall).msgDelete},
		{"STREAM.LEADER.STEPDOWN.", true, api.TypeStreamStepdownResponse, (*apiCall).streamStepdown},
	}
}

// rawRoute is a call answered with raw messages instead of JSON (direct
// get). Upstream serves those outside the API: they are not counted, not
// audited and never get a JSON error. fn gets everything after prefix.
type rawRoute struct {
	prefix string
	fn     func(c *apiCall, rest string)
}

// rawRoutes are tried before the API table; other files append to it.
var rawRoutes []rawRoute

// extraRoutes lets other files of the package add calls (direct get,
// snapshots, consumers) without touching the table above.
var extraRoutes []route

func (a *account) dispatch(c *apiCall) {
	for _, tbl := range [][]route{routes, extraRoutes} {
		for _, r := range tbl {
			name, ok := matchRoute(r, c.op)
			if !ok {
				continue
			}
			if !a.enabled {
				c.fail(r.rtype, api.ErrNotEnabledForAccount)
				return
			}
			if v := hdr.Get(c.hdr, hdr.RequiredAPILevel); v != nil {
				if lvl, err := strconv.Atoi(string(v)); err != nil || lvl > APILevel {
					c.fail(r.rtype, api.ErrRequiredApiLevel)
					return
				}
			}
			r.fn(c, name)
			return
		}
	}
	if !a.enabled {
		c.fail(api.TypeErrorResponse, api.ErrNotEnabledForAccount)
		return
	}
	c.fail(api.TypeErrorResponse, api.ErrBadRequest)
}

func matchRoute(r route, op string) (string, bool) {
	if !r.arg && strings.HasSuffix(r.prefix, ".") {
		// The rest is one or more tokens (consumer calls).
		name, ok := strings.CutPrefix(op, r.prefix)
		return name, ok && name != ""
	}
	if !r.arg {
		return "", op == r.prefix
	}
	name, ok := strings.CutPrefix(op, r.prefix)
	if !ok || name == "" || strings.Contains(name, ".") {
		return "", false
	}
	return name, true
}

// respond sends v (a response with its type set) and audits the call.
func (c *apiCall) respond(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"type":"` + api.TypeErrorResponse + `","error":{"code":500,"description":"` + err.Error() + `"}}`)
	}
	_ = c.acc.api.Publish(c.reply, "", nil, b)
	c.audit(b)
}

// fail answers with e in a response of type rtype.
func (c *apiCall) fail(rtype string, e *api.Error) {
	c.acc.js.apiErrors.Add(1)
	c.acc.apiErrors.Add(1)
	c.respond(api.Response{Type: rtype, Error: e})
}

// decode reads the request body into v; an empty body leaves v as is.
// As upstream, every JSON value of the body is decoded in turn, so
// anything after the object is an error, and a syntax error says where it
// is. Unknown fields are refused unless the server is not strict, which
// then decodes the body leniently.
func (c *apiCall) decode(v any) *api.Error {
	d := json.NewDecoder(bytes.NewReader(c.data))
	d.DisallowUnknownFields()
	for {
		err := d.Decode(v)
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			err = fmt.Errorf("%w at offset %d", err, se.Offset)
		}
		if c.acc.js.opts.NonStrict {
			if err = json.Unmarshal(c.data, v); err == nil {
				return nil
			}
		}
		return api.ErrInvalidJSON.WithErr(err)
	}
}

// emptyRequest reports whether the body is no request, as upstream
// counts it for the calls that take none: nothing, or an empty object.
func (c *apiCall) emptyRequest() bool {
	if len(bytes.TrimSpace(c.data)) == 0 {
		return true
	}
	var m map[string]json.RawMessage
	return json.Unmarshal(c.data, &m) == nil && m != nil && len(m) == 0
}

// needBody is decode for calls that require a request body.
func (c *apiCall) needBody(v any) *api.Error {
	if len(bytes.TrimSpace(c.data)) == 0 {
		return api.ErrBadRequest
	}
	return c.decode(v)
}

// Advisory subjects and types.
const (
	advisoryPrefix   = "$JS.EVENT.ADVISORY."
	auditType        = "io.nats.jetstream.advisory.v1.api_audit"
	streamActionType = "io.nats.jetstream.advisory.v1.stream_action"
)

// event is the head every advisory starts with.
type event struct {
	Type string    `json:"type"`
	ID   string    `json:"id"`
	Time time.Time `json:"timestamp"`
}

func newEvent(typ string) event { return event{Type: typ, ID: newID(), Time: time.Now().UTC()} }

// clientInfo is the client part of an audit advisory.
type clientInfo struct {
	Account string `json:"acc"`
	User    string `json:"user,omitempty"`
	Server  string `json:"server,omitempty"`
}

type auditAdvisory struct {
	event
	Server   string     `json:"server"`
	Client   clientInfo `json:"client"`
	Subject  string     `json:"subject"`
	Request  string     `json:"request,omitempty"`
	Response string     `json:"response"`
	Domain   string     `json:"domain,omitempty"`
}

type streamAction struct {
	event
	Stream   string `json:"stream"`
	Template string `json:"template,omitempty"`
	Action   string `json:"action"`
	Domain   string `json:"domain,omitempty"`
}

func (c *apiCall) audit(resp []byte) {
	js := c.acc.js
	ev := auditAdvisory{
		event: newEvent(auditType), Server: js.srv.Name(),
		Client:  clientInfo{Account: c.acc.name, User: c.req.User, Server: js.srv.Name()},
		Subject: c.subject, Request: string(c.data), Response: string(resp), Domain: js.opts.Domain,
	}
	c.acc.advise(advisoryPrefix+"API", ev)
}

// advise publishes an advisory in the account.
func (a *account) advise(subject string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	_ = a.api.Publish(subject, "", nil, b)
}

func (a *account) streamAdvisory(name, action string) {
	ev := streamAction{event: newEvent(streamActionType), Stream: name, Action: action, Domain: a.js.opts.Domain}
	subj := map[string]string{"create": "CREATED", "delete": "DELETED", "modify": "UPDATED"}[action]
	a.advise(advisoryPrefix+"STREAM."+subj+"."+name, ev)
}

// newID returns a random 22-character identifier, as the events carry.
func newID() string {
	var b [11]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}
