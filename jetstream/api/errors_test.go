package api

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestErrorJSONRoundTrip(t *testing.T) {
	b, err := json.Marshal(ErrStreamNotFound)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"code":404,"err_code":10059,"description":"stream not found"}`
	if string(b) != want {
		t.Fatalf("marshal = %s, want %s", b, want)
	}
	// Inside an API response, as a client reads it.
	b, err = json.Marshal(inResponse(ErrStreamWrongLastSequence.With("seq", "5")))
	if err != nil {
		t.Fatal(err)
	}
	const wantResp = `{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 5"}}`
	if string(b) != wantResp {
		t.Fatalf("response = %s, want %s", b, wantResp)
	}
	for _, e := range table {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var back Error
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if back != *e {
			t.Fatalf("round trip of %s gave %+v", b, back)
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(b, &keys); err != nil {
			t.Fatal(err)
		}
		if len(keys) != 3 || keys["code"] == nil || keys["err_code"] == nil || keys["description"] == nil {
			t.Fatalf("%s: want exactly code, err_code and description", b)
		}
	}
}

// inResponse wraps e the way every API response carries an error.
func inResponse(e *Error) any {
	return struct {
		Error *Error `json:"error"`
	}{e}
}

// declared parses errors.go and returns every Err variable it declares,
// with the values of its literal, so the test checks the source itself
// and not only table.
func declared(t *testing.T) map[string]Error {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Error{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if !strings.HasPrefix(n.Name, "Err") {
					continue
				}
				u, ok := vs.Values[i].(*ast.UnaryExpr)
				if !ok {
					t.Fatalf("%s is not &Error{...}", n.Name)
				}
				lit := u.X.(*ast.CompositeLit)
				var e Error
				for _, el := range lit.Elts {
					kv := el.(*ast.KeyValueExpr)
					v := kv.Value.(*ast.BasicLit).Value
					switch kv.Key.(*ast.Ident).Name {
					case "Code":
						e.Code, _ = strconv.Atoi(v)
					case "ErrCode":
						c, _ := strconv.Atoi(v)
						e.ErrCode = uint16(c)
					case "Description":
						e.Description, _ = strconv.Unquote(v)
					}
				}
				out[n.Name] = e
			}
		}
	}
	return out
}

func TestErrCodesUnique(t *testing.T) {
	decl := declared(t)
	if len(decl) != len(table) {
		t.Fatalf("errors.go declares %d errors, table lists %d", len(decl), len(table))
	}
	byErrCode := map[uint16]string{}
	for name, e := range decl {
		if prev, dup := byErrCode[e.ErrCode]; dup {
			t.Errorf("%s and %s share ErrCode %d", prev, name, e.ErrCode)
		}
		byErrCode[e.ErrCode] = name
		got := Lookup(e.ErrCode)
		if got == nil || *got != e {
			t.Errorf("Lookup(%d) = %+v, want %s %+v", e.ErrCode, got, name, e)
		}
	}
	seen := map[*Error]bool{}
	for i, e := range table {
		if seen[e] {
			t.Errorf("table lists %+v twice", e)
		}
		seen[e] = true
		if i > 0 && table[i-1].ErrCode >= e.ErrCode {
			t.Errorf("table out of order at %d", e.ErrCode)
		}
		if e.Code < 400 || e.Code > 599 || e.Description == "" {
			t.Errorf("implausible %+v", e)
		}
	}
	if Lookup(0) != nil || Lookup(10000) != nil || Lookup(10001) != nil {
		t.Error("Lookup of a code upstream does not define is not nil")
	}
}

func TestPlaceholders(t *testing.T) {
	braces := regexp.MustCompile(`\{[^{}]*\}`)
	good := regexp.MustCompile(`^\{[a-z]+\}$`)
	for _, e := range table {
		for _, p := range braces.FindAllString(e.Description, -1) {
			if !good.MatchString(p) {
				t.Errorf("%d: placeholder %q is not {lowercase}", e.ErrCode, p)
			}
		}
		// No stray brace outside a placeholder.
		if rest := braces.ReplaceAllString(e.Description, ""); strings.ContainsAny(rest, "{}") {
			t.Errorf("%d: unbalanced brace in %q", e.ErrCode, e.Description)
		}
	}
}

func TestWithFills(t *testing.T) {
	e := ErrStreamWrongLastSequence.With("seq", "5")
	if e.Description != "wrong last sequence: 5" || e.Code != 400 || e.ErrCode != 10071 {
		t.Fatalf("With = %+v", e)
	}
	if ErrStreamWrongLastSequence.Description != "wrong last sequence: {seq}" {
		t.Fatal("With changed the table")
	}
	if !errors.Is(e, ErrStreamWrongLastSequence) || errors.Is(e, ErrStreamWrongLastSequenceConstant) {
		t.Fatal("Is does not go by ErrCode")
	}
	two := ErrRestoreSubscribeFailed.With("subject", "_INBOX.x", "err", "boom")
	if want := "JetStream unable to subscribe to restore snapshot _INBOX.x: boom"; two.Description != want {
		t.Fatalf("With two keys = %q, want %q", two.Description, want)
	}
	ext := ErrStreamExternalDelPrefixOverlaps.With("prefix", "d", "subject", "foo.>")
	if want := "stream external delivery prefix d overlaps with stream subject foo.>"; ext.Description != want {
		t.Fatalf("With = %q, want %q", ext.Description, want)
	}
	if got := ErrStreamStoreFailed.WithErr(errors.New("disk full")).Description; got != "disk full" {
		t.Fatalf("WithErr = %q", got)
	}
	if got := ErrInvalidJSON.WithErr(errors.New("unexpected end")).Description; got != "invalid JSON: unexpected end" {
		t.Fatalf("WithErr = %q", got)
	}
}

// TestSpotChecks pins values read from upstream's errors.json; the codes
// marked (nats.go) are also constants of the nats.go jetstream client.
func TestSpotChecks(t *testing.T) {
	for _, c := range []struct {
		e       *Error
		code    int
		errCode uint16
		desc    string
	}{
		{ErrStreamNotFound, 404, 10059, "stream not found"},                                           // nats.go
		{ErrConsumerNotFound, 404, 10014, "consumer not found"},                                       // nats.go
		{ErrBadRequest, 400, 10003, "bad request"},                                                    // nats.go
		{ErrStreamNameExist, 400, 10058, "stream name already in use with a different configuration"}, // nats.go
		{ErrStreamWrongLastSequence, 400, 10071, "wrong last sequence: {seq}"},                        // nats.go
		{ErrStreamWrongLastSequenceConstant, 400, 10164, "wrong last sequence"},                       // nats.go
		{ErrNotEnabledForAccount, 503, 10039, "JetStream not enabled for account"},                    // nats.go
		{ErrNotEnabled, 503, 10076, "JetStream not enabled"},                                          // nats.go
		{ErrStreamMessageExceedsMaximum, 400, 10054, "message size exceeds maximum allowed"},          // nats.go
		{ErrMaximumConsumersLimit, 400, 10026, "maximum consumers limit reached"},                     // nats.go
		{ErrConsumerAlreadyExists, 400, 10148, "consumer already exists"},                             // nats.go
		{ErrConsumerDoesNotExist, 400, 10149, "consumer does not exist"},                              // nats.go
		{ErrConsumerExistingActive, 400, 10105, "consumer already exists and is still active"},        // nats.go
		{ErrMessageSchedulesDisabled, 400, 10188, "message schedules is disabled"},                    // nats.go
		{ErrStreamSubjectOverlap, 400, 10065, "subjects overlap with an existing stream"},
		{ErrInsufficientResources, 503, 10023, "insufficient resources"},
		{ErrStorageResourcesExceeded, 500, 10047, "insufficient storage resources available"},
		{ErrStreamDuplicateMessageConflict, 409, 10158, "duplicate message id is in process"},
		{ErrStreamExpectedLastSeqPerSubjectNotReady, 503, 10163, "expected last sequence per subject temporarily unavailable"},
		{ErrRequiredApiLevel, 412, 10185, "JetStream minimum api level required"},
		{ErrStreamStoreFailed, 503, 10077, "{err}"},
		{ErrClusterNotAvail, 503, 10008, "JetStream system temporarily unavailable"},
		{ErrConsumerBadDurableName, 400, 10103, "durable name can not contain '.', '*', '>'"},
		{ErrAtomicPublishTooManyInflight, 429, 10210, "atomic publish too many inflight"},
	} {
		if c.e.Code != c.code || c.e.ErrCode != c.errCode || c.e.Description != c.desc {
			t.Errorf("got %+v, want {%d %d %q}", *c.e, c.code, c.errCode, c.desc)
		}
	}
}
