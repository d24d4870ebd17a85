package sys

import (
	"bytes"
	"errors"
	"fmt"
	"runtime/pprof"
	"time"

	"natsd.dev/server"
)

// KindProfilez asks for a runtime profile, answered on
// $SYS.REQ.SERVER.<id>.PROFILEZ and $SYS.REQ.SERVER.PING.PROFILEZ in a
// ServerAPIResponse whose data is a ProfilezStatus, as upstream.
const KindProfilez = "PROFILEZ"

// maxCPUProfile bounds the duration of a CPU profile a request may ask
// for; longer ones are cut to it.
const maxCPUProfile = time.Minute

// ProfilezOptions are the body of a PROFILEZ request, with upstream's
// names: Name is a profile of runtime/pprof ("heap", "goroutine",
// "allocs", "block", "mutex", "threadcreate") or "cpu", which is sampled
// for Duration; Debug is pprof's debug level (0 is the gzipped protobuf
// format, 1 and 2 text). The event filter selects the servers.
type ProfilezOptions struct {
	Name     string        `json:"name"`
	Debug    int           `json:"debug"`
	Duration time.Duration `json:"duration,omitempty"`
}

// ProfilezStatus is the data of a PROFILEZ answer: the profile's bytes
// (base64 in JSON) or the error, with upstream's names; both keys are
// always present.
type ProfilezStatus struct {
	Profile []byte `json:"profile"`
	Error   string `json:"error"`
}

// profilez answers a PROFILEZ request. A CPU profile samples for the
// requested duration (at most maxCPUProfile), or until quit closes.
func profilez(s *server.Server, data []byte, quit <-chan struct{}) ([]byte, error) {
	o := new(ProfilezOptions)
	return s.SystemResponse(data, o, func() (any, error) {
		return profile(o, quit), nil
	})
}

func profile(o *ProfilezOptions, quit <-chan struct{}) *ProfilezStatus {
	var buf bytes.Buffer
	switch o.Name {
	case "":
		return &ProfilezStatus{Error: "Profile name not specified"}
	case "cpu":
		if err := pprof.StartCPUProfile(&buf); err != nil {
			return &ProfilezStatus{Error: fmt.Sprintf("Failed to start CPU profile: %v", err)}
		}
		t := time.NewTimer(min(max(o.Duration, 0), maxCPUProfile))
		select {
		case <-t.C:
		case <-quit:
			t.Stop()
		}
		pprof.StopCPUProfile()
	default:
		p := pprof.Lookup(o.Name)
		if p == nil {
			return &ProfilezStatus{Error: fmt.Sprintf("Profile %q not found", o.Name)}
		}
		if err := p.WriteTo(&buf, o.Debug); err != nil {
			return &ProfilezStatus{Error: fmt.Sprintf("Profile %q failed: %v", o.Name, err)}
		}
	}
	return &ProfilezStatus{Profile: buf.Bytes()}
}

// errProfileBusy is logged when a PROFILEZ request arrives while another
// one runs; the request goes unanswered (its requester times out).
var errProfileBusy = errors.New("sys: a profile is being taken")

// runProfilez answers req on a goroutine of its own, so that a CPU
// profile does not hold up the other requests and the advisories; one
// profile runs at a time. Run waits for it before it returns.
func (svc *Service) runProfilez(req request, quit <-chan struct{}) {
	select {
	case svc.profiling <- struct{}{}:
	default:
		svc.srv.Logger().Debug("system request " + KindProfilez + ": " + errProfileBusy.Error())
		return
	}
	svc.wg.Add(1)
	go func() {
		defer svc.wg.Done()
		body, err := profilez(svc.srv, req.data, quit)
		// Free the slot before answering: a requester that sends its
		// next PROFILEZ on this answer must not find it taken.
		<-svc.profiling
		if err != nil {
			return
		}
		_ = svc.sess.Publish(req.reply, "", nil, body)
	}()
}
