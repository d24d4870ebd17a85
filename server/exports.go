package server

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"natsd.dev/sublist"
)

// Exports, imports and mappings: the options that link accounts and rewrite
// subjects, and their validation. The delivery side is in crossaccount.go.

// ResponseType says how many responses a service export's requester gets
// for one request, as upstream's response_type.
type ResponseType uint8

const (
	// ResponseSingleton allows one response per request (the default).
	ResponseSingleton ResponseType = iota
	// ResponseStream allows any number of responses until the response
	// threshold passes.
	ResponseStream
	// ResponseChunked is a stream of chunks; natsd treats it as Stream.
	ResponseChunked
)

// String returns upstream's name: Singleton, Stream or Chunked.
func (r ResponseType) String() string {
	switch r {
	case ResponseStream:
		return "Stream"
	case ResponseChunked:
		return "Chunked"
	}
	return "Singleton"
}

// ParseResponseType reads a response_type value, case-insensitively.
func ParseResponseType(s string) (ResponseType, error) {
	switch strings.ToLower(s) {
	case "singleton", "single":
		return ResponseSingleton, nil
	case "stream":
		return ResponseStream, nil
	case "chunked":
		return ResponseChunked, nil
	}
	return 0, fmt.Errorf("unknown response type %q (Singleton, Stream or Chunked)", s)
}

// DefaultResponseThreshold is how long a service import's reply subject
// stays valid when the export sets no response_threshold; upstream's.
const DefaultResponseThreshold = 2 * time.Minute

// Export is a stream or service an account offers to other accounts.
type Export struct {
	// Account is the exporting account.
	Account string
	// Subject is the exported subject; it may hold wildcards.
	Subject string
	// Service makes it a service export (request/reply); else a stream.
	Service bool
	// Accounts restricts the export to these importers; empty is public.
	Accounts []string
	// ResponseType and ResponseThreshold apply to services.
	ResponseType      ResponseType
	ResponseThreshold time.Duration
	// AllowTrace (services) lets a traced request's message trace go on
	// into the exporter (allow_trace, ADR-41); else it ends at the
	// import.
	AllowTrace bool
}

// Import takes an exported stream or service into an account.
type Import struct {
	// Account is the importing account; From the exporting one.
	Account, From string
	// Subject is the subject in the exporter's namespace; it must be
	// within one of From's exports of the same kind.
	Subject string
	// Service makes it a service import; else a stream import.
	Service bool
	// Prefix (streams) puts the subjects under "<Prefix>." locally.
	Prefix string
	// To is the local subject: for a stream what the importer's
	// subscribers see, for a service what its requesters publish to. Its
	// wildcards stand for Subject's, in order. Empty means Subject.
	To string
	// AllowTrace (streams) lets a traced message's trace go on into the
	// importer (allow_trace, ADR-41); else it ends at the import.
	AllowTrace bool
	// Share (services) is the import's share setting, which shares the
	// requester's details with the exporter's latency tracking; natsd
	// does not track latency, so it is only shown (/accountz).
	Share bool
}

// Mapping rewrites the subjects published in an account (the mappings {}
// block), as upstream's subject mappings.
type Mapping struct {
	// Account is the account the mapping applies to; "" is the global
	// account (the top-level mappings block).
	Account string
	// Source is the subject filter a published subject must match.
	Source string
	// Destinations are tried by weight; see MapDestination.
	Destinations []MapDestination
}

// MapDestination is one destination of a Mapping. Weights are percents;
// a single destination without weight takes 100, a destination of weight
// 0 among several is never taken (as upstream), and what the weights
// leave below 100 keeps the subject unmapped. Destinations naming a
// Cluster apply only in that cluster (the server's cluster name, see
// SetClusterName), instead of the others; their weights count apart.
type MapDestination struct {
	Subject string
	Weight  uint8
	Cluster string
}

// Errors of import and export validation, with upstream's texts.
var (
	ErrStreamImportAuthorization  = errors.New("stream import not authorized")
	ErrServiceImportAuthorization = errors.New("service import not authorized")
	ErrStreamImportBadPrefix      = errors.New("stream import prefix can not contain wildcard tokens")
)

// CheckExport reports what New would refuse about e (a bad subject, a
// response threshold without a service), so that a configuration parser
// can report it at the export's position.
func CheckExport(e *Export) error {
	if !sublist.ValidFilter(e.Subject) {
		return fmt.Errorf("export subject %q is not a valid subject", e.Subject)
	}
	if !e.Service && (e.ResponseType != ResponseSingleton || e.ResponseThreshold != 0) {
		return errors.New("response_type and response_threshold apply to service exports only")
	}
	if e.ResponseThreshold < 0 {
		return errors.New("response_threshold must not be negative")
	}
	return nil
}

// CheckImport reports what New would refuse about im, given every export
// and whether an account name is known.
func CheckImport(im *Import, exports []Export, known func(account string) bool) error {
	kind := "stream"
	if im.Service {
		kind = "service"
	}
	switch {
	case im.From == "":
		return fmt.Errorf("%s import needs an account", kind)
	case !known(im.From):
		return fmt.Errorf("%s import: account %q not defined", kind, im.From)
	case im.From == im.Account:
		return fmt.Errorf("%s import from the importing account %q itself", kind, im.From)
	case !sublist.ValidFilter(im.Subject):
		return fmt.Errorf("%s import subject %q is not a valid subject", kind, im.Subject)
	case im.Service && im.Prefix != "":
		return errors.New("prefix applies to stream imports; a service import renames with to")
	case im.Prefix != "" && im.To != "":
		return errors.New("a stream import takes prefix or to, not both")
	case im.Prefix != "" && (!sublist.ValidFilter(im.Prefix) || !sublist.IsLiteral(im.Prefix)):
		if sublist.ValidFilter(im.Prefix) {
			return ErrStreamImportBadPrefix
		}
		return fmt.Errorf("stream import prefix %q is not a valid subject", im.Prefix)
	}
	if im.To != "" {
		if _, err := importTransform(im); err != nil {
			return err
		}
	}
	if findExport(im, exports) == nil {
		if im.Service {
			return fmt.Errorf("%w: %q of account %q", ErrServiceImportAuthorization, im.Subject, im.From)
		}
		return fmt.Errorf("%w: %q of account %q", ErrStreamImportAuthorization, im.Subject, im.From)
	}
	return nil
}

// findExport returns the first export of im.From of im's kind that covers
// im.Subject and admits im.Account, or nil.
func findExport(im *Import, exports []Export) *Export {
	for i := range exports {
		e := &exports[i]
		if e.Account != im.From || e.Service != im.Service || !sublist.IsSubsetMatch(im.Subject, e.Subject) {
			continue
		}
		if len(e.Accounts) == 0 || slices.Contains(e.Accounts, im.Account) {
			return e
		}
	}
	return nil
}

// importTransform returns the transform of an import with To set: for a
// stream from the exporter's Subject to To, for a service from To to
// Subject. The wildcards of the side being matched become $n references
// on the other side, so both must have the same '*' count and both end
// in '>' or neither.
func importTransform(im *Import) (*sublist.Transform, error) {
	if !sublist.ValidFilter(im.To) {
		return nil, fmt.Errorf("import to %q is not a valid subject", im.To)
	}
	src, dst := im.Subject, im.To
	if im.Service {
		src, dst = im.To, im.Subject
	}
	ref, err := wildcardRefs(src, dst)
	if err != nil {
		return nil, fmt.Errorf("import to %q does not fit subject %q: %w", im.To, im.Subject, err)
	}
	return sublist.NewTransformStrict(src, ref)
}

// wildcardRefs rewrites dst's '*' tokens as $1, $2, ... after checking that
// dst has src's wildcards.
func wildcardRefs(src, dst string) (string, error) {
	stars := func(s string) (n int, full bool) {
		for tok := range sublist.Tokens(s) {
			switch tok {
			case "*":
				n++
			case ">":
				full = true
			}
		}
		return n, full
	}
	ns, fs := stars(src)
	nd, fd := stars(dst)
	if ns != nd || fs != fd {
		return "", errors.New("the wildcards differ")
	}
	var b strings.Builder
	n := 0
	for tok := range sublist.Tokens(dst) {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		if tok == "*" {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteString(tok)
	}
	return b.String(), nil
}

// CheckMapping reports what New would refuse about m.
func CheckMapping(m *Mapping) error {
	_, err := checkMapping(m)
	return err
}

// checkMapping validates m and returns its compiled form.
func checkMapping(m *Mapping) (*mapping, error) {
	if !sublist.ValidFilter(m.Source) {
		return nil, fmt.Errorf("mapping source %q is not a valid subject", m.Source)
	}
	if len(m.Destinations) == 0 {
		return nil, fmt.Errorf("mapping %q has no destination", m.Source)
	}
	cm := &mapping{}
	totals := map[string]int{}
	for i, d := range m.Destinations {
		w := int(d.Weight)
		if len(m.Destinations) == 1 && w == 0 {
			w = 100
		}
		if w > 100 {
			return nil, fmt.Errorf("mapping %q: destination %q needs a weight between 0%% and 100%%", m.Source, d.Subject)
		}
		totals[d.Cluster] += w
		if totals[d.Cluster] > 100 {
			// Upstream's text (one list per cluster, as its weights).
			return nil, fmt.Errorf("Error adding mapping for %q : total weight needs to be <= 100", m.Source)
		}
		tr, err := sublist.NewTransform(m.Source, d.Subject)
		if err != nil {
			return nil, fmt.Errorf("mapping %q destination %d: %w", m.Source, i+1, err)
		}
		cm.dests = append(cm.dests, mapDest{tr: tr, weight: w, cluster: d.Cluster})
		cm.scoped = cm.scoped || d.Cluster != ""
	}
	return cm, nil
}
