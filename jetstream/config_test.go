package jetstream_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"natsd.dev/confparse"
	"natsd.dev/jetstream"
	"natsd.dev/jetstream/api"
	"natsd.dev/server/config"
)

// parseConf writes text to a file and parses it with the JetStream keys
// registered, as nats-server does.
func parseConf(t *testing.T, text string) (path string, o jetstream.Options, on bool, cfg *config.Config, warnings confparse.ErrorList, err error) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "js.conf")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	var p config.Parser
	jetstream.RegisterConfig(&p, &o, &on)
	cfg, warnings, err = p.ParseFile(path, confparse.Options{})
	return path, o, on, cfg, warnings, err
}

// mustParse parses text and fails the test on any error.
func mustParse(t *testing.T, text string) (jetstream.Options, bool, confparse.ErrorList) {
	t.Helper()
	_, o, on, _, warnings, err := parseConf(t, text)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return o, on, warnings
}

func TestConfigBlock(t *testing.T) {
	o, on, warnings := mustParse(t, `
store_dir: "/var/lib/nats"
jetstream {
  max_memory_store: 1GB
  max_file: "2G"
  domain: hub
  sync_interval: "30s"
  unique_tag: " AZ "
  strict: false
  max_outstanding_catchup: 64MB
  max_buffered_size: 1K
  max_buffered_msgs: 5000
  request_queue_limit: 100
  limits { max_ack_pending: 1000, max_ha_assets: 3, max_request_batch: 256, duplicate_window: "1m" }
}
`)
	if !on {
		t.Fatal("a jetstream block should enable JetStream")
	}
	if len(warnings) != 0 {
		t.Fatalf("warnings: %v", warnings)
	}
	want := jetstream.Options{
		StoreDir: "/var/lib/nats", MaxMemory: 1 << 30, MaxStore: 2 << 30, Domain: "hub",
		SyncInterval: 30 * time.Second, UniqueTag: "az", NonStrict: true,
		MaxCatchup: 64 << 20, MaxBufferedSize: 1000, MaxBufferedMsgs: 5000, RequestQueueLimit: 100, // K is 1000, KB 1024
		Limits: jetstream.ServerLimits{MaxAckPending: 1000, MaxHAAssets: 3, MaxRequestBatch: 256, Duplicates: time.Minute},
	}
	if !reflect.DeepEqual(o, want) {
		t.Fatalf("options:\n got %+v\nwant %+v", o, want)
	}
}

func TestConfigSwitch(t *testing.T) {
	for _, tt := range []struct {
		text string
		on   bool
	}{
		{"jetstream: true", true},
		{"jetstream: false", false},
		{"jetstream: enabled", true},
		{"jetstream: Enable", true},
		{"jetstream: disabled", false},
		{`jetstream: "disable"`, false},
		{"jetstream {}", true},
		{"jetstream { enabled: false, store_dir: /tmp/x }", false},
		{"jetstream { enable: true }", true},
		{"store_dir: /tmp/x", false},
		{"port: 4222", false},
	} {
		t.Run(tt.text, func(t *testing.T) {
			_, on, _ := mustParse(t, tt.text)
			if on != tt.on {
				t.Fatalf("enabled = %v, want %v", on, tt.on)
			}
		})
	}
}

func TestConfigSyncInterval(t *testing.T) {
	for _, tt := range []struct {
		text string
		want time.Duration
		warn bool
	}{
		{`jetstream { sync_interval: always }`, 0, false},
		{`jetstream { sync: "ALWAYS" }`, 0, false},
		{`jetstream { sync_interval: "2m" }`, 2 * time.Minute, false},
		{`jetstream { sync_interval: 5 }`, 5 * time.Second, true},
	} {
		t.Run(tt.text, func(t *testing.T) {
			o, _, warnings := mustParse(t, tt.text)
			if o.SyncInterval != tt.want {
				t.Fatalf("SyncInterval = %v, want %v", o.SyncInterval, tt.want)
			}
			if (len(warnings) > 0) != tt.warn {
				t.Fatalf("warnings %v, want some: %v", warnings, tt.warn)
			}
		})
	}
}

func TestConfigAccounts(t *testing.T) {
	o, on, _ := mustParse(t, `
accounts {
  A { jetstream: enabled }
  B { jetstream { max_mem: 1G, max_file: 10G, max_streams: 10, max_consumers: 100, max_bytes_required: true,
                  mem_max_stream_bytes: 1M, store_max_stream_bytes: 2M, max_ack_pending: 50, cluster_traffic: owner } }
  C { jetstream: disabled }
  D { jetstream: true }
  E { jetstream { memory: 1K, store: 2K, streams: 1, consumers: 2, max_bytes: false } }
  F {}
}
`)
	if on {
		t.Fatal("account keys alone should not enable JetStream")
	}
	b := jetstream.Unlimited
	// The file's G is 10^9 and GB 2^30, as upstream's.
	b.MaxMemory, b.MaxStore, b.MaxStreams, b.MaxConsumers, b.MaxBytesRequired = 1e9, 10e9, 10, 100, true
	b.MemoryMaxStreamBytes, b.StoreMaxStreamBytes, b.MaxAckPending = 1e6, 2e6, 50
	e := jetstream.Unlimited
	e.MaxMemory, e.MaxStore, e.MaxStreams, e.MaxConsumers = 1000, 2000, 1, 2
	want := map[string]api.AccountLimits{"A": jetstream.Unlimited, "B": b, "D": jetstream.Unlimited, "E": e}
	if !reflect.DeepEqual(o.Accounts, want) {
		t.Fatalf("accounts:\n got %+v\nwant %+v", o.Accounts, want)
	}
}

func TestConfigResolveAccounts(t *testing.T) {
	// Accounts defined, none with JetStream: none has it, as upstream.
	_, o, _, cfg, _, err := parseConf(t, "jetstream: enabled\naccounts { A {}, B { jetstream: disabled } }\n")
	if err != nil {
		t.Fatal(err)
	}
	if o.Accounts != nil {
		t.Fatalf("accounts %v before ResolveAccounts", o.Accounts)
	}
	if err := o.ResolveAccounts(cfg.Options.Accounts, cfg.Options.SystemAccount); err != nil {
		t.Fatal(err)
	}
	if o.Accounts == nil || len(o.Accounts) != 0 {
		t.Fatalf("accounts = %#v, want an empty map", o.Accounts)
	}

	// The global account alone (and the system account): every account
	// has JetStream.
	_, o, _, cfg, _, err = parseConf(t, "jetstream: enabled\naccounts { SYS {} }\nsystem_account: SYS\n")
	if err != nil {
		t.Fatal(err)
	}
	if err := o.ResolveAccounts(cfg.Options.Accounts, cfg.Options.SystemAccount); err != nil || o.Accounts != nil {
		t.Fatalf("accounts %v, err %v; want nil, nil", o.Accounts, err)
	}

	// JetStream on the system account is refused, named by
	// system_account after the accounts or by default.
	for _, text := range []string{
		"jetstream: enabled\naccounts { A { jetstream: enabled }, SYS { jetstream: enabled } }\nsystem_account: SYS\n",
		"jetstream: enabled\naccounts { $SYS { jetstream { max_mem: 1G } } }\n",
	} {
		_, o, _, cfg, _, err = parseConf(t, text)
		if err != nil {
			t.Fatal(err)
		}
		err = o.ResolveAccounts(cfg.Options.Accounts, cfg.Options.SystemAccount)
		if !errors.Is(err, jetstream.ErrSystemAccount) || !strings.Contains(err.Error(), "Not allowed to enable JetStream on the system account") {
			t.Fatalf("%q: err = %v", text, err)
		}
	}
	// Without a system account nothing is refused.
	_, o, _, cfg, _, err = parseConf(t, "jetstream: enabled\nno_system_account: true\naccounts { $SYS { jetstream: enabled } }\n")
	if err != nil {
		t.Fatal(err)
	}
	sys := cfg.Options.SystemAccount
	if cfg.Options.NoSystemAccount {
		sys = ""
	}
	if err := o.ResolveAccounts(cfg.Options.Accounts, sys); err != nil {
		t.Fatal(err)
	}
}

func TestConfigDefaultDomains(t *testing.T) {
	o, _, _ := mustParse(t, `default_js_domain: { A: hub, "B": "leaf" }`)
	if want := map[string]string{"A": "hub", "B": "leaf"}; !reflect.DeepEqual(o.DefaultDomains, want) {
		t.Fatalf("DefaultDomains = %v, want %v", o.DefaultDomains, want)
	}
}

func TestConfigWarnings(t *testing.T) {
	path, _, on, _, warnings, err := parseConf(t, `jetstream {
  extension_hint: "x"
  cipher: aes
  meta_compact: 5
  max_concurrent_io: 4K
}`)
	if err != nil || !on {
		t.Fatalf("err %v, on %v", err, on)
	}
	want := []string{
		path + `:2:3: jetstream extension_hint is not supported yet and is ignored`,
		path + `:3:11: jetstream cipher has no effect: jetstream encryption is not supported yet`,
		path + `:4:3: jetstream meta_compact is not supported yet and is ignored`,
		path + `:5:3: jetstream max_concurrent_io is not supported yet and is ignored`,
	}
	if got := strings.Split(warnings.Error(), "\n"); !reflect.DeepEqual(got, want) {
		t.Fatalf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestConfigErrors checks that every problem of a file is reported at
// once, each at its file:line:col, with the sentinel it wraps.
func TestConfigErrors(t *testing.T) {
	path, _, _, _, _, err := parseConf(t, `store_dir: "/a"
jetstream {
  store_dir: "/b"
  bogus: 1
  max_mem: "2Q"
  max_file: true
  domain: "a.b"
  key: "s3cr3t"
  cipher: rot13
  sync_interval: "soon"
  strict: "no"
  tpm { keys_file: "k" }
  limits { max_ack_pending: "x", foo: 2, duplicate_window: 5 }
}
accounts {
  A { jetstream { max_mem: "1G", zzz: 1, cluster_traffic: foo } }
  B { jetstream: maybe }
  C { jetstream: 5 }
}
default_js_domain: 5
`)
	var list confparse.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("err = %v, want a confparse.ErrorList", err)
	}
	type want struct {
		at, msg string
		kind    error
	}
	wants := []want{
		{"3:3", `Duplicate 'store_dir' configuration`, config.ErrBadValue},
		{"4:3", `unknown field "bogus"`, config.ErrUnknownField},
		{"5:12", `max_mem_store sizes defined as strings must end in K, M, G, T`, config.ErrBadValue},
		{"6:13", `max_file_store: expected a size, got boolean true`, config.ErrBadValue},
		{"7:11", `invalid domain name: may not contain ., * or >`, config.ErrBadValue},
		{"8:3", `jetstream encryption (key) is not supported yet`, config.ErrNotSupported},
		{"9:11", `Unknown cipher type: "rot13"`, config.ErrBadValue},
		{"10:18", `error parsing jetstream sync_interval`, config.ErrBadValue},
		{"11:11", `jetstream strict: expected a boolean, got string "no"`, config.ErrBadValue},
		{"12:3", `jetstream tpm (encryption keys in a TPM) is not supported yet`, config.ErrNotSupported},
		{"13:29", `jetstream limits max_ack_pending: expected an integer`, config.ErrBadValue},
		{"13:34", `unknown field "foo"`, config.ErrUnknownField},
		{"13:60", `jetstream limits duplicate_window: expected a duration string, got integer 5`, config.ErrBadValue},
		{"16:28", `account A jetstream max_mem: expected an integer, got string "1G"`, config.ErrBadValue},
		{"16:34", `unknown field "zzz"`, config.ErrUnknownField},
		{"16:59", `Expected 'system' or 'owner' string value for "cluster_traffic", got foo`, config.ErrBadValue},
		{"17:18", `Expected 'enabled' or 'disabled' for string value, got 'maybe'`, config.ErrBadValue},
		{"18:18", `account C jetstream: expected a map, a boolean or a string, got integer 5`, config.ErrBadValue},
		{"20:20", `default_js_domain: expected a map of account names to domains, got integer 5`, config.ErrBadValue},
	}
	if len(list) != len(wants) {
		t.Errorf("got %d errors, want %d:\n%v", len(list), len(wants), err)
	}
	for i, w := range wants {
		if i >= len(list) {
			break
		}
		e := list[i]
		if e.Pos.File != path || e.Pos.String() != path+":"+w.at || !strings.Contains(e.Msg, w.msg) || !errors.Is(e, w.kind) {
			t.Errorf("error %d = %v (%v), want %s:%s: %s (%v)", i, e, e.Err, path, w.at, w.msg, w.kind)
		}
	}
}

func TestConfigDuplicateStoreDirEitherOrder(t *testing.T) {
	path, _, _, _, _, err := parseConf(t, "jetstream { store_dir: /b }\nstoredir: /a\n")
	if err == nil || err.Error() != path+":2:1: Duplicate 'store_dir' configuration" {
		t.Fatalf("err = %v", err)
	}
}

func TestConfigTopLevelType(t *testing.T) {
	path, _, _, _, _, err := parseConf(t, "jetstream: 5\n")
	if err == nil || err.Error() != path+`:1:12: jetstream: expected a map, a boolean or a string, got integer 5` {
		t.Fatalf("err = %v", err)
	}
	path, _, _, _, _, err = parseConf(t, "jetstream: maybe\n")
	if err == nil || err.Error() != path+`:1:12: Expected 'enabled' or 'disabled' for string value, got 'maybe'` {
		t.Fatalf("err = %v", err)
	}
}

// TestConfigConcurrentIO: max_concurrent_io takes what upstream 2.15.2
// takes (an integer from 4 to 8192) and refuses the rest with its text,
// checked against its binary with -t.
func TestConfigConcurrentIO(t *testing.T) {
	for _, v := range []string{"4", "8192"} {
		if _, _, _, _, _, err := parseConf(t, "jetstream { max_concurrent_io: "+v+" }\n"); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
	for v, got := range map[string]string{"0": "0", "-1": "-1", "8193": "8193", `"8"`: "8", "1.5": "1.5", "true": "true"} {
		path, _, _, _, _, err := parseConf(t, "jetstream {\n  max_concurrent_io: "+v+"\n}\n")
		want := path + `:2:3: Expected an absolute size for "max_concurrent_io" between 4 and 8192, got ` + got
		if err == nil || err.Error() != want || !errors.Is(err, config.ErrBadValue) {
			t.Errorf("%s: err = %v, want %s", v, err, want)
		}
	}
}
