package main

import (
	"errors"
	"strings"

	"natsd.dev/cluster"
	"natsd.dev/cluster/gateway"
	"natsd.dev/cluster/leaf"
	"natsd.dev/cmd/internal/wsserver"
	"natsd.dev/confparse"
	"natsd.dev/jetstream"
	"natsd.dev/mqtt"
	"natsd.dev/server/config"
)

// fileConfig is a parsed configuration: the core's (config.Config) plus
// what the blocks the command registers for its modules produced.
type fileConfig struct {
	config.Config
	// cluster is the cluster {} block, nil without one.
	cluster *cluster.Options
	// gateway is the gateway {} block, nil without one.
	gateway *gateway.Options
	// leaf is the leafnodes {} block (alias leaf), nil without one.
	leaf *leaf.Options
	// websocket is the websocket {} block; Port 0 without one.
	websocket wsserver.Options
	// js is what the jetstream {} block, store_dir, default_js_domain
	// and the accounts' jetstream keys configure; jsOn whether the file
	// turns JetStream on.
	js   jetstream.Options
	jsOn bool
	// mqtt is the mqtt {} block; Port 0 without one (MQTT off).
	mqtt     mqtt.Options
	mqttSeen bool
}

// Keys of subsystems natsd does not have yet. Their modules will register
// them; until then the command refuses them with nats-server's key in the
// message, since the user expects the feature on.
const notYetKeys = ``

// ignoredKeys tune the reporting of link errors upstream has and natsd
// does not; they are accepted with a warning.
const ignoredKeys = `connect_error_reports reconnect_error_reports`

// notYetAccountKeys are the keys inside an account's block of subsystems
// natsd does not have yet.
const notYetAccountKeys = ``

// parser returns a parser with the command's blocks registered, whose
// results land in fc. Each parse takes a new fileConfig and parser, so a
// reload never writes into the running configuration.
func (fc *fileConfig) parser() *config.Parser {
	var p config.Parser
	p.Register("cluster", func(d *confparse.Decoder, e *confparse.Entry) {
		o, warnings, err := cluster.ParseConfig(e)
		d.Warnings = append(d.Warnings, warnings...)
		if err != nil {
			var list confparse.ErrorList
			if errors.As(err, &list) {
				d.Errors = append(d.Errors, list...)
			} else {
				d.Errorf(e.KeyPos, config.ErrBadValue, "%v", err)
			}
			return
		}
		fc.cluster = o
	})
	leafBlock := func(d *confparse.Decoder, e *confparse.Entry) {
		o, warnings, err := leaf.ParseConfig(e)
		d.Warnings = append(d.Warnings, warnings...)
		if err != nil {
			var list confparse.ErrorList
			if errors.As(err, &list) {
				d.Errors = append(d.Errors, list...)
			} else {
				d.Errorf(e.KeyPos, config.ErrBadValue, "%v", err)
			}
			return
		}
		fc.leaf = o
	}
	p.Register("gateway", fc.gatewayBlock)
	p.Register("leafnodes", leafBlock)
	p.Register("leaf", leafBlock)
	p.Register("websocket", wsserver.Block(&fc.websocket))
	p.Register("ws", wsserver.Block(&fc.websocket))
	jetstream.RegisterConfig(&p, &fc.js, &fc.jsOn)
	mqtt.RegisterConfig(&p, &fc.mqtt, &fc.mqttSeen)
	for _, k := range strings.Fields(notYetKeys) {
		p.Register(k, config.NotSupported)
	}
	for _, k := range strings.Fields(ignoredKeys) {
		p.Register(k, config.Ignored)
	}
	for _, k := range strings.Fields(notYetAccountKeys) {
		p.RegisterAccount(k, config.NotSupportedInAccount)
	}
	return &p
}

// defaultFileConfig is the configuration without a file.
func defaultFileConfig() *fileConfig {
	return &fileConfig{Config: config.Default()}
}

// parseConfigFile parses the file at path with the command's blocks. err
// is a confparse.ErrorList with every error of the file, the modules'
// blocks' included, in the order of the file.
func parseConfigFile(path string) (*fileConfig, confparse.ErrorList, error) {
	return parseConfigFileWith(path, confparse.Options{})
}

// parseConfigFileWith is parseConfigFile reading files and the
// environment through po (see recorder).
func parseConfigFileWith(path string, po confparse.Options) (*fileConfig, confparse.ErrorList, error) {
	fc := &fileConfig{}
	c, warnings, err := fc.parser().ParseFile(path, po)
	if err != nil {
		return nil, warnings, err
	}
	fc.Config = *c
	return fc, warnings, nil
}
