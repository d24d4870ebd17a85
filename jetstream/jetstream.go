package jetstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"natsd.dev/jetstream/api"
	"natsd.dev/server"
)

// JetStream is JetStream running on one server.
type JetStream struct {
	srv     *server.Server
	opts    Options
	dir     string // <StoreDir>/jetstream
	log     *slog.Logger
	started time.Time

	// addMu serializes adding accounts: at Start and, in operator mode,
	// when the server builds an account from its JWT (jwt.go).
	addMu    sync.Mutex
	mu       sync.Mutex
	accounts map[string]*account // every account whose API we serve
	closed   bool

	apiTotal, apiErrors atomic.Uint64
	// maxMemory and maxStore are the server's storage limits: opts'
	// values at Start, raised by SetMaxStorage on a reload.
	maxMemory, maxStore atomic.Int64
	// limits are the server's limits {}: opts' at Start, replaced by
	// SetServerLimits on a reload.
	limits atomic.Pointer[ServerLimits]
}

// ErrStoreDir is returned by Start when the store directory cannot be
// created or written.
var ErrStoreDir = errors.New("jetstream: store directory not usable")

// Start enables JetStream on srv, which must have been started: it opens
// the store directory, recovers every stream, serves the $JS.API of every
// account (JetStream accounts for real, the others with "jetstream not
// enabled for account") and registers the jsz, healthz and varz providers.
func Start(srv *server.Server, o Options) (*JetStream, error) {
	o.setDefaults()
	js := &JetStream{
		srv: srv, opts: o, dir: o.dataDir(), started: time.Now().UTC(),
		log:      srv.Logger(),
		accounts: make(map[string]*account),
	}
	js.maxMemory.Store(o.MaxMemory)
	js.maxStore.Store(o.MaxStore)
	js.limits.Store(&o.Limits)
	if err := checkDir(js.dir); err != nil {
		return nil, err
	}
	js.banner()
	sys := ""
	if a := srv.SystemAccount(); a != nil {
		sys = a.Name
	}
	// In operator mode accounts come and go with their JWTs (jwt.go).
	srv.OnJWTAccount(js.jwtAccount)
	js.addMu.Lock()
	defer js.addMu.Unlock()
	for _, name := range srv.AccountNames() {
		if js.account(name) != nil {
			continue // built from its JWT: jwtAccount added it
		}
		lim, on := o.Accounts[name]
		if o.Accounts == nil {
			lim, on = Unlimited, name != sys
		}
		if name == sys {
			on = false
		}
		acc, err := js.addAccount(name, lim, on)
		if err != nil {
			_ = js.Shutdown(context.Background())
			return nil, err
		}
		if on {
			js.log.Info(fmt.Sprintf("  Started JetStream for account %q", name))
		}
		_ = acc
	}
	srv.SetJetStream(o.Domain, APILevel)
	js.registerMonitoring()
	return js, nil
}

// WithDefaults returns o with the limits Start fills in when unset: 75%
// of the machine's memory and 1TB of file storage, as upstream.
func (o Options) WithDefaults() Options {
	o.setDefaults()
	return o
}

// ErrLimitDecrease is SetMaxStorage's error for a limit lower than the
// running one.
var ErrLimitDecrease = errors.New("config reload not supported for decreasing jetstream max memory and store")

// SetMaxStorage raises the server's storage limits (max_memory_store,
// max_file_store, 0 for the default) on a configuration reload, as
// upstream: new streams and /jsz see them at once. A lower limit is
// refused with ErrLimitDecrease and nothing changes.
func (js *JetStream) SetMaxStorage(maxMemory, maxStore int64) error {
	o := Options{MaxMemory: maxMemory, MaxStore: maxStore}.WithDefaults()
	if o.MaxMemory < js.maxMemory.Load() || o.MaxStore < js.maxStore.Load() {
		return ErrLimitDecrease
	}
	js.maxMemory.Store(o.MaxMemory)
	js.maxStore.Store(o.MaxStore)
	return nil
}

// SetServerLimits replaces the server's limits {} (max_ack_pending,
// max_ha_assets, max_request_batch, duplicate_window), as a configuration
// reload does upstream ("Reloaded: JetStream limits"): the streams and
// consumers created or updated from then on are checked against them and
// /varz shows them; what exists is not checked again.
func (js *JetStream) SetServerLimits(l ServerLimits) {
	js.limits.Store(&l)
}

// serverLimits are the server's limits {} in force; the caller must not
// change them.
func (js *JetStream) serverLimits() *ServerLimits { return js.limits.Load() }

func (o *Options) setDefaults() {
	if o.MaxMemory <= 0 {
		o.MaxMemory = defaultMaxMemory()
	}
	if o.MaxStore <= 0 {
		o.MaxStore = 1 << 40
	}
}

// defaultMaxMemory is 75% of the machine's memory, as upstream.
func defaultMaxMemory() int64 {
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil && kb > 0 {
			return kb * 1024 / 4 * 3
		}
	}
	return 4 << 30
}

// checkDir creates dir and proves it writable.
func checkDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("%w: could not create storage directory - %v", ErrStoreDir, err)
	}
	f, err := os.CreateTemp(dir, "_check")
	if err != nil {
		return fmt.Errorf("%w: storage directory is not writable - %v", ErrStoreDir, err)
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// banner logs what upstream logs when JetStream starts.
func (js *JetStream) banner() {
	l := js.log
	l.Info("Starting JetStream")
	for _, line := range []string{
		`    _ ___ _____ ___ _____ ___ ___   _   __  __`,
		` _ | | __|_   _/ __|_   _| _ \ __| /_\ |  \/  |`,
		`| || | _|  | | \__ \ | | |   / _| / _ \| |\/| |`,
		` \__/|___| |_| |___/ |_| |_|_\___/_/ \_\_|  |_|`,
		``,
		`         https://docs.nats.io/jetstream`,
		``,
		`---------------- JETSTREAM ----------------`,
		fmt.Sprintf("  Strict:          %v", !js.opts.NonStrict),
		fmt.Sprintf("  Max Memory:      %s", friendlyBytes(js.opts.MaxMemory)),
		fmt.Sprintf("  Max Storage:     %s", friendlyBytes(js.opts.MaxStore)),
		fmt.Sprintf("  Store Directory: %q", js.dir),
	} {
		l.Info(line)
	}
	if js.opts.Domain != "" {
		l.Info(fmt.Sprintf("  Domain:          %s", js.opts.Domain))
	}
	l.Info(fmt.Sprintf("  API Level:       %d", APILevel))
	l.Info(`-------------------------------------------`)
}

func friendlyBytes(n int64) string {
	f := float64(n)
	units := []string{"B", "KB", "MB", "GB", "TB", "PB"}
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.2f %s", f, units[i])
}

// Shutdown stops serving the API, stops the streams and closes their
// stores, making everything acknowledged durable.
func (js *JetStream) Shutdown(ctx context.Context) error {
	js.mu.Lock()
	if js.closed {
		js.mu.Unlock()
		return nil
	}
	js.closed = true
	accs := make([]*account, 0, len(js.accounts))
	for _, a := range js.accounts {
		accs = append(accs, a)
	}
	js.mu.Unlock()
	js.srv.SetJetStream("", 0)
	js.unregisterMonitoring()
	var errs []error
	for _, a := range accs {
		if err := a.close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// account returns the JetStream account named name, nil if it has none.
func (js *JetStream) account(name string) *account {
	js.mu.Lock()
	defer js.mu.Unlock()
	a := js.accounts[name]
	if a == nil || !a.enabled {
		return nil
	}
	return a
}

func (js *JetStream) accountList() []*account {
	js.mu.Lock()
	defer js.mu.Unlock()
	out := make([]*account, 0, len(js.accounts))
	for _, a := range js.accounts {
		if a.enabled {
			out = append(out, a)
		}
	}
	return out
}

// StoreDir returns the directory holding JetStream's data.
func (js *JetStream) StoreDir() string { return js.dir }

func accountDir(root, name string) string { return filepath.Join(root, name) }

var _ = api.LimitsPolicy
