package config_test

import (
	"errors"
	"strings"
	"testing"

	"natsd.dev/confparse"
	"natsd.dev/server/config"
)

// fooOptions are the options of a module that owns the foo {} block.
type fooOptions struct {
	Port    int
	Verbose bool
}

// fooParser registers foo {} (and foo inside accounts) on a new Parser
// whose results land in the returned maps: one Parser per parse.
func fooParser() (*config.Parser, *fooOptions, map[string]int) {
	var p config.Parser
	foo := &fooOptions{}
	perAccount := map[string]int{}
	p.Register("foo", func(d *confparse.Decoder, e *confparse.Entry) {
		if e.Value.Kind != confparse.KindMap {
			d.TypeError(e.Key, "a map", e.Value)
			return
		}
		for i := range e.Value.Map.Entries {
			me := &e.Value.Map.Entries[i]
			switch strings.ToLower(me.Key) {
			case "port":
				d.Int("foo port", me.Value, &foo.Port)
			case "verbose":
				d.Bool("foo verbose", me.Value, &foo.Verbose)
			default:
				d.Errorf(me.KeyPos, config.ErrUnknownField, "unknown field %q", me.Key)
			}
		}
	})
	p.RegisterAccount("foo", func(d *confparse.Decoder, account string, e *confparse.Entry) {
		var n int
		if d.Int("foo", e.Value, &n) {
			perAccount[account] = n
		}
	})
	p.Register("bar", config.NotSupported)
	p.RegisterAccount("bar", config.NotSupportedInAccount)
	p.Register("baz", config.Ignored)
	return &p, foo, perAccount
}

func TestRegisteredBlocks(t *testing.T) {
	p, foo, perAccount := fooParser()
	m, err := confparse.ParseWithOptions("test.conf", []byte(`port: 4333
FOO {
  port: 7000
  verbose: true
}
accounts { A: { foo: 3 } }
baz: 1
`), confparse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := config.Default()
	warns, err := p.Apply(&c, m)
	if err != nil {
		t.Fatal(err)
	}
	if c.Options.Port != 4333 || *foo != (fooOptions{Port: 7000, Verbose: true}) || perAccount["A"] != 3 {
		t.Errorf("port %d, foo %+v, per account %v", c.Options.Port, *foo, perAccount)
	}
	if len(warns) != 1 || warns[0].Error() != "test.conf:7:1: baz is not supported yet and is ignored" {
		t.Errorf("warnings %v", warns)
	}
}

func TestRegisteredBlocksErrorsInFileOrder(t *testing.T) {
	p, _, _ := fooParser()
	m, err := confparse.ParseWithOptions("test.conf", []byte(`port: "x"
foo { port: "y", bogus: 1 }
bar: 1
accounts { A: { foo: "z", bar: 2 } }
unknown: 1
`), confparse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := config.Default()
	_, err = p.Apply(&c, m)
	want := strings.Join([]string{
		`test.conf:1:7: port: expected an integer, got string "x"`,
		`test.conf:2:13: foo port: expected an integer, got string "y"`,
		`test.conf:2:18: unknown field "bogus"`,
		`test.conf:3:1: bar is not supported yet`,
		`test.conf:4:22: foo: expected an integer, got string "z"`,
		`test.conf:4:27: account A: bar is not supported yet`,
		`test.conf:5:1: unknown field "unknown"`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Fatalf("got:\n%v\nwant:\n%s", err, want)
	}
	if !errors.Is(err, config.ErrNotSupported) || !errors.Is(err, config.ErrUnknownField) || !errors.Is(err, config.ErrBadValue) {
		t.Error("sentinels not wrapped")
	}
}

func TestUnregisteredBlockIsUnknown(t *testing.T) {
	m, _ := confparse.ParseWithOptions("test.conf", []byte("jetstream {}\naccounts { A: { jetstream: true } }\n"), confparse.Options{})
	c := config.Default()
	_, err := c.Apply(m)
	want := "test.conf:1:1: unknown field \"jetstream\"\ntest.conf:2:17: unknown field \"jetstream\" in account A"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v", err)
	}
}

func TestRegisterPanics(t *testing.T) {
	for _, f := range []func(p *config.Parser){
		func(p *config.Parser) { p.Register("port", config.Ignored) },
		func(p *config.Parser) { p.Register("x", config.Ignored); p.Register("X", config.Ignored) },
		func(p *config.Parser) { p.RegisterAccount("users", config.NotSupportedInAccount) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f(&config.Parser{})
		}()
	}
}
