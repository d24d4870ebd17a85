package mqtt

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"natsd.dev/server"
)

// jsClient talks to JetStream's API of one account, through an in-process
// session bound to that account: requests go out with a reply subject in
// the session's private inbox, and answers come back through one
// subscription on it. It also carries the account's internal traffic of
// MQTT (stored messages, acknowledgements), which no user's permissions
// apply to.
type jsClient struct {
	sess    *server.Session
	prefix  string // "$JS.API." or "$JS.<domain>.API."
	inbox   string // "$MQTT.JSA.<cid>."
	timeout time.Duration

	mu      sync.Mutex
	seq     uint64
	pending map[uint64]func(*server.Msg)
}

// errTimeout is a JetStream request nobody answered within the timeout.
var errTimeout = errors.New("mqtt: JetStream API request timed out")

func newJSClient(srv *server.Server, account, domain string, timeout time.Duration) (*jsClient, error) {
	sess, err := srv.Attach(server.SessionOptions{
		Kind:     server.SessionAccount,
		Name:     "mqtt",
		Account:  account,
		QueueLen: 1 << 16,
	})
	if err != nil {
		return nil, err
	}
	j := &jsClient{sess: sess, prefix: "$JS.API.", timeout: timeout, pending: make(map[uint64]func(*server.Msg))}
	if domain != "" {
		j.prefix = "$JS." + domain + ".API."
	}
	j.inbox = "$MQTT.JSA." + strconv.FormatUint(sess.ID(), 10) + "."
	if _, err := sess.Subscribe(j.inbox+"*", "", j.reply); err != nil {
		sess.Close()
		return nil, err
	}
	return j, nil
}

func (j *jsClient) close() { j.sess.Close() }

// reply hands an answer to the request waiting for it.
func (j *jsClient) reply(m *server.Msg) {
	tok := m.Subject[len(j.inbox):]
	id, err := strconv.ParseUint(string(tok), 10, 64)
	if err != nil {
		return
	}
	j.mu.Lock()
	fn := j.pending[id]
	delete(j.pending, id)
	j.mu.Unlock()
	if fn != nil {
		fn(m)
	}
}

// publishAsync publishes a message with a reply in the inbox and calls
// done with the answer (on the session's goroutine; done must not block)
// or with errTimeout.
func (j *jsClient) publishAsync(subject string, hdr, data []byte, done func(*server.Msg, error)) {
	j.mu.Lock()
	j.seq++
	id := j.seq
	j.mu.Unlock()
	var once sync.Once
	t := time.AfterFunc(j.timeout, func() {
		j.mu.Lock()
		_, ok := j.pending[id]
		delete(j.pending, id)
		j.mu.Unlock()
		if ok {
			once.Do(func() { done(nil, errTimeout) })
		}
	})
	j.mu.Lock()
	j.pending[id] = func(m *server.Msg) {
		t.Stop()
		once.Do(func() { done(m, nil) })
	}
	j.mu.Unlock()
	if err := j.sess.Publish(subject, j.inbox+strconv.FormatUint(id, 10), hdr, data); err != nil {
		j.mu.Lock()
		_, ok := j.pending[id]
		delete(j.pending, id)
		j.mu.Unlock()
		if ok {
			once.Do(func() { t.Stop(); done(nil, err) })
		}
	}
}

// request publishes and waits for the answer's payload.
func (j *jsClient) request(subject string, hdr, data []byte) ([]byte, error) {
	type answer struct {
		data []byte
		err  error
	}
	ch := make(chan answer, 1)
	j.publishAsync(subject, hdr, data, func(m *server.Msg, err error) {
		if err != nil {
			ch <- answer{err: err}
			return
		}
		ch <- answer{data: append([]byte(nil), m.Data...)}
	})
	a := <-ch
	return a.data, a.err
}

// apiError is the error of a JetStream API answer.
type apiError struct {
	Code        int    `json:"code"`
	ErrCode     int    `json:"err_code"`
	Description string `json:"description"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (%d)", e.Description, e.ErrCode)
}

// call sends a JetStream API request (the subject after the prefix) and
// decodes the answer into out (which may be nil); an error answer comes
// back as *apiError.
func (j *jsClient) call(api string, req, out any) error {
	var body []byte
	if req != nil {
		var err error
		if body, err = json.Marshal(req); err != nil {
			return err
		}
	}
	data, err := j.request(j.prefix+api, nil, body)
	if err != nil {
		return err
	}
	var r struct {
		Error *apiError `json:"error"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("mqtt: JetStream answer to %s: %w", api, err)
	}
	if r.Error != nil {
		return r.Error
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}
