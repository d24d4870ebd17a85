package config

import (
	"strconv"
	"strings"

	"natsd.dev/confparse"
	"natsd.dev/server"
)

// Parsing of exports, imports and mappings. They are checked in
// finishLinks, once every account is known, with the functions New uses.

// exportImportState is what the exports, imports and mappings keys leave for
// finishLinks: where each entry came from.
type exportImportState struct {
	exportPos  []confparse.Pos
	importPos  []confparse.Pos
	mappingPos []confparse.Pos
}

// mapList returns the maps of the array v (the list key, of item
// entries), reporting v if it is no array and each entry that is no map.
func (a *applier) mapList(key, item string, v *confparse.Value) []*confparse.Value {
	if v.Kind != confparse.KindArray {
		a.TypeError(key, "an array", v)
		return nil
	}
	maps := make([]*confparse.Value, 0, len(v.Array))
	for _, ev := range v.Array {
		if ev.Kind != confparse.KindMap {
			a.TypeError(item, "a map", ev)
			continue
		}
		maps = append(maps, ev)
	}
	return maps
}

// Upstream's keys of an export that natsd refuses as not supported yet;
// other unknown keys are unknown fields.
var exportUnsupported = keySet("latency account_token_position advertise")

// exports parses an account's exports list.
func (a *applier) exports(acc string, v *confparse.Value) {
	for _, ev := range a.mapList("exports", "export", v) {
		e := server.Export{Account: acc}
		kinds, ok := 0, true
		var tracePos confparse.Pos
		for i := range ev.Map.Entries {
			ke := &ev.Map.Entries[i]
			key := strings.ToLower(ke.Key)
			switch key {
			case "stream", "service":
				kinds++
				e.Service = key == "service"
				ok = a.Str(key, ke.Value, &e.Subject) && ok
			case "accounts":
				ok = a.Strings(key, ke.Value, &e.Accounts) && ok
			case "response_type", "response":
				var s string
				if ok = a.Str(key, ke.Value, &s) && ok; s != "" {
					rt, err := server.ParseResponseType(s)
					if err != nil {
						a.Errorf(ke.Value.Pos, ErrBadValue, "%v", err)
						ok = false
					}
					e.ResponseType = rt
				}
			case "response_threshold", "threshold":
				ok = a.StrictDuration(key, ke.Value, &e.ResponseThreshold) && ok
			case "allow_trace":
				ok = a.Bool(key, ke.Value, &e.AllowTrace) && ok
				tracePos = ke.KeyPos
			default:
				if exportUnsupported[key] {
					a.Errorf(ke.KeyPos, ErrNotSupported, "export %s is not supported yet", ke.Key)
				} else {
					a.Errorf(ke.KeyPos, ErrUnknownField, "unknown field %q in export", ke.Key)
				}
				ok = false
			}
		}
		if kinds != 1 {
			a.Errorf(ev.Pos, ErrBadValue, "an export needs exactly one of stream or service")
			continue
		}
		if e.AllowTrace && !e.Service {
			// Upstream's text: a stream's importer allows tracing.
			a.Errorf(tracePos, ErrBadValue, "Detected allow_trace directive on non-service")
			ok = false
		}
		if ok {
			a.c.Options.Exports = append(a.c.Options.Exports, e)
			a.exportPos = append(a.exportPos, ev.Pos)
		}
	}
}

// imports parses an account's imports list.
func (a *applier) imports(acc string, v *confparse.Value) {
	for _, iv := range a.mapList("imports", "import", v) {
		im := server.Import{Account: acc}
		kinds, ok := 0, true
		var tracePos confparse.Pos
		for i := range iv.Map.Entries {
			ke := &iv.Map.Entries[i]
			key := strings.ToLower(ke.Key)
			switch key {
			case "stream", "service":
				kinds++
				im.Service = key == "service"
				ok = a.importSource(key, ke.Value, &im) && ok
			case "prefix":
				ok = a.Str(key, ke.Value, &im.Prefix) && ok
			case "to":
				ok = a.Str(key, ke.Value, &im.To) && ok
			case "allow_trace":
				ok = a.Bool(key, ke.Value, &im.AllowTrace) && ok
				tracePos = ke.KeyPos
			case "share":
				// Shares data with latency tracking, which exports do
				// not support yet: alone it changes nothing but
				// /accountz.
				ok = a.Bool(key, ke.Value, &im.Share) && ok
			default:
				a.Errorf(ke.KeyPos, ErrUnknownField, "unknown field %q in import", ke.Key)
				ok = false
			}
		}
		if kinds != 1 {
			a.Errorf(iv.Pos, ErrBadValue, "an import needs exactly one of stream or service")
			continue
		}
		if im.AllowTrace && im.Service {
			// Upstream's text: a service's exporter allows tracing.
			a.Errorf(tracePos, ErrBadValue, "Detected allow_trace directive on a non-stream")
			ok = false
		}
		if ok {
			a.c.Options.Imports = append(a.c.Options.Imports, im)
			a.importPos = append(a.importPos, iv.Pos)
		}
	}
}

// importSource parses { account, subject } of an import.
func (a *applier) importSource(key string, v *confparse.Value, im *server.Import) bool {
	if v.Kind != confparse.KindMap {
		a.TypeError(key, "a map with account and subject", v)
		return false
	}
	ok := true
	for i := range v.Map.Entries {
		ke := &v.Map.Entries[i]
		switch strings.ToLower(ke.Key) {
		case "account":
			ok = a.Str("account", ke.Value, &im.From) && ok
		case "subject":
			ok = a.Str("subject", ke.Value, &im.Subject) && ok
		default:
			a.Errorf(ke.KeyPos, ErrUnknownField, "unknown field %q in %s import", ke.Key, key)
			ok = false
		}
	}
	if ok && (im.From == "" || im.Subject == "") {
		a.Errorf(v.Pos, ErrBadValue, "%s import needs account and subject", key)
		return false
	}
	return ok
}

// mappings parses a mappings {} block of the account acc ("" for the
// top-level one): each key a source, each value a destination subject or
// a list of {destination, weight, cluster}.
func (a *applier) mappings(acc string, v *confparse.Value) {
	if v.Kind != confparse.KindMap {
		a.TypeError("mappings", "a map", v)
		return
	}
	for i := range v.Map.Entries {
		me := &v.Map.Entries[i]
		m := server.Mapping{Account: acc, Source: me.Key}
		ok := true
		switch me.Value.Kind {
		case confparse.KindString:
			m.Destinations = []server.MapDestination{{Subject: me.Value.Str}}
		case confparse.KindMap:
			d, dok := a.mapDestination(me.Value)
			m.Destinations, ok = []server.MapDestination{d}, dok
		case confparse.KindArray:
			for _, dv := range me.Value.Array {
				d, dok := a.mapDestination(dv)
				m.Destinations = append(m.Destinations, d)
				ok = ok && dok
			}
		default:
			a.TypeError("mapping "+me.Key, "a subject or a list of destinations", me.Value)
			ok = false
		}
		if ok && me.Value.Kind != confparse.KindString && len(m.Destinations) == 1 && m.Destinations[0].Weight == 0 {
			// Upstream accepts a sole destination of weight 0 and never
			// takes it: the subject stays unmapped. Server.New reads a
			// sole destination without weight as 100, so the mapping is
			// checked here and left out.
			chk := m
			chk.Destinations = []server.MapDestination{{Subject: m.Destinations[0].Subject, Weight: 100, Cluster: m.Destinations[0].Cluster}}
			if err := server.CheckMapping(&chk); err != nil {
				a.Errorf(me.KeyPos, ErrBadValue, "%v", err)
			}
			continue
		}
		if ok {
			a.c.Options.Mappings = append(a.c.Options.Mappings, m)
			a.mappingPos = append(a.mappingPos, me.KeyPos)
		}
	}
}

// mapDestination parses { destination, weight, cluster }.
func (a *applier) mapDestination(v *confparse.Value) (server.MapDestination, bool) {
	var d server.MapDestination
	if v.Kind != confparse.KindMap {
		a.TypeError("mapping destination", "a map", v)
		return d, false
	}
	ok := true
	for i := range v.Map.Entries {
		ke := &v.Map.Entries[i]
		switch strings.ToLower(ke.Key) {
		case "destination", "dest", "subject":
			ok = a.Str(ke.Key, ke.Value, &d.Subject) && ok
		case "weight":
			ok = a.weight(ke.Value, &d.Weight) && ok
		case "cluster":
			ok = a.Str(ke.Key, ke.Value, &d.Cluster) && ok
		default:
			a.Errorf(ke.KeyPos, ErrUnknownField, "unknown field %q in mapping destination", ke.Key)
			ok = false
		}
	}
	if ok && d.Subject == "" {
		a.Errorf(v.Pos, ErrBadValue, "mapping destination needs a destination subject")
		ok = false
	}
	if ok && v.Map.Lookup("weight") == nil {
		// Upstream: a destination in {} form always names its weight.
		a.Errorf(v.Pos, ErrBadValue, "Missing weight for mapping destination %q", d.Subject)
		ok = false
	}
	return d, ok
}

// weight takes a percentage: 50, "50" or "50%".
func (a *applier) weight(v *confparse.Value, dst *uint8) bool {
	var n int64
	switch v.Kind {
	case confparse.KindInt:
		n = v.Int
	case confparse.KindString:
		var err error
		if n, err = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v.Str), "%"), 10, 64); err != nil {
			a.Errorf(v.Pos, ErrBadValue, "weight %q is not a percentage", v.Str)
			return false
		}
	default:
		a.TypeError("weight", "a percentage", v)
		return false
	}
	if n < 0 || n > 100 {
		// Upstream's text. A weight of 0 is accepted, as upstream: that
		// destination is never taken.
		a.Errorf(v.Pos, ErrBadValue, "Invalid weight %d for mapping destination", n)
		return false
	}
	*dst = uint8(n)
	return true
}

// finishLinks checks the exports, imports and mappings against each other
// and the accounts, with the checks New makes, reporting each problem at
// its entry.
func (a *applier) finishLinks(known func(string) bool) {
	o := &a.c.Options
	for i := range o.Exports {
		if err := server.CheckExport(&o.Exports[i]); err != nil {
			a.Errorf(a.exportPos[i], ErrBadValue, "account %s: %v", o.Exports[i].Account, err)
		}
	}
	for i := range o.Imports {
		if err := server.CheckImport(&o.Imports[i], o.Exports, known); err != nil {
			a.Errorf(a.importPos[i], ErrBadValue, "account %s: %v", o.Imports[i].Account, err)
		}
	}
	for i := range o.Mappings {
		if err := server.CheckMapping(&o.Mappings[i]); err != nil {
			a.Errorf(a.mappingPos[i], ErrBadValue, "%v", err)
		}
	}
}
