package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"natsd.dev/server"
	"reflect"

	"natsd.dev/jetstream"
)

// loadJetStream layers the JetStream flags over what the file configured
// (the keys jetstream.RegisterConfig parsed into cfg) and reports whether
// JetStream is on. As upstream: -js given turns JetStream on, and
// -js=false off, whatever the file says; -sd replaces the store
// directory of the file.
func loadJetStream(cfg *fileConfig, f *flags) (jetstream.Options, bool, error) {
	o, on := cfg.js, cfg.jsOn
	// default_js_domain maps the plain API of its accounts to their
	// domain's, with or without JetStream here (a leaf node without
	// JetStream uses its hub's), as upstream.
	cfg.Options.Mappings = append(cfg.Options.Mappings, jetstream.DefaultDomainMappings(o.DefaultDomains)...)
	if f.set["jetstream"] {
		on = f.jetstream
	}
	if f.set["store_dir"] {
		o.StoreDir = f.storeDir
	}
	if !on {
		return o, false, nil
	}
	sys := cfg.Options.SystemAccount
	if cfg.Options.NoSystemAccount {
		sys = ""
	}
	if err := o.ResolveAccounts(cfg.Options.Accounts, sys); err != nil {
		return o, false, err
	}
	return o, true, nil
}

// startJetStream starts JetStream on s, from the server's Start.
func (p *process) startJetStream(s *server.Server) error {
	js, err := jetstream.Start(s, p.jsOpts)
	if err != nil {
		return err
	}
	p.js = js
	return nil
}

// stopJetStream shuts JetStream down, from whichever of shutdown and
// lame duck mode comes first (the second finds it closed), logging a
// failure to log (the lame duck goroutine may not read p.logs, which
// belongs to the signal loop). A reload no longer turns JetStream on
// once it ran.
func (p *process) stopJetStream(ctx context.Context, log *slog.Logger) {
	p.jsMu.Lock()
	js := p.js
	p.jsStopped = true
	p.jsMu.Unlock()
	if js == nil {
		return
	}
	if err := js.Shutdown(ctx); err != nil {
		log.Error("JetStream shutdown did not complete: " + err.Error())
	}
}

// reloadJetStream turns JetStream on or off as a reload asks
// (jetstream: enabled/disabled), as upstream's reload does: on, it
// starts with the new options and recovers what its store directory
// holds; off, it shuts down and its data stays on disk. It runs on the
// signal loop, the only goroutine that sets p.js once the server runs.
func (p *process) reloadJetStream(on bool, o jetstream.Options) {
	log := p.logs.log
	p.jsMu.Lock()
	defer p.jsMu.Unlock()
	if p.jsStopped {
		return // the server is shutting down
	}
	if !on {
		js := p.js
		if js == nil {
			return
		}
		p.js = nil
		log.Info("Initiating JetStream Shutdown...")
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := js.Shutdown(ctx); err != nil {
			log.Error("JetStream shutdown did not complete: " + err.Error())
		}
		log.Info("JetStream Shutdown")
		return
	}
	if p.js != nil {
		return
	}
	log.Info("Restarting JetStream")
	js, err := jetstream.Start(p.srv, o)
	if err != nil {
		log.Warn("Can't start JetStream: " + err.Error())
		return
	}
	p.js = js
}

// jsLimitsDecrease reports whether nu lowers a server storage limit of
// old (defaults filled in), which upstream refuses; raising one reloads.
func jsLimitsDecrease(old, nu jetstream.Options) bool {
	o, n := old.WithDefaults(), nu.WithDefaults()
	return n.MaxMemory < o.MaxMemory || n.MaxStore < o.MaxStore
}

// withoutLimits is o without the server storage limits and limits {},
// which reload.
func withoutLimits(o jetstream.Options) jetstream.Options {
	o.MaxMemory, o.MaxStore = 0, 0
	o.Limits = jetstream.ServerLimits{}
	return o
}

// checkJetStreamReload refuses a reload that changes JetStream beyond
// what reloads (raised storage limits, limits {}), as upstream. The wording is upstream's for
// the settings upstream refuses too.
func checkJetStreamReload(oldOn bool, old jetstream.Options, newOn bool, nu jetstream.Options) error {
	switch {
	case !oldOn || !newOn:
		// Turning JetStream on or off reloads, as upstream's; the
		// settings of JetStream off do not matter, and JetStream turned
		// on starts with the new ones.
		return nil
	case old.StoreDir != nu.StoreDir:
		return errors.New("config reload not supported for jetstream storage dir")
	case jsLimitsDecrease(old, nu):
		return jetstream.ErrLimitDecrease
	case old.Domain != nu.Domain:
		return fmt.Errorf("config reload not supported for JetStreamDomain: old=%v, new=%v", old.Domain, nu.Domain)
	case old.NonStrict != nu.NonStrict:
		return fmt.Errorf("config reload not supported for NoJetStreamStrict: old=%v, new=%v", old.NonStrict, nu.NonStrict)
	case !reflect.DeepEqual(withoutLimits(old), withoutLimits(nu)):
		return errors.New("config reload not supported for jetstream")
	}
	return nil
}
