package config_test

import (
	"fmt"
	"strings"

	"natsd.dev/confparse"
	"natsd.dev/server/config"
)

// A module registers the block it owns; its errors come back with the
// core's, in file order, each at its file:line:col.
func ExampleParser_Register() {
	type echoOptions struct{ Port int }
	var echo echoOptions
	var p config.Parser
	p.Register("echo", func(d *confparse.Decoder, e *confparse.Entry) {
		if e.Value.Kind != confparse.KindMap {
			d.TypeError(e.Key, "a map", e.Value)
			return
		}
		for i := range e.Value.Map.Entries {
			me := &e.Value.Map.Entries[i]
			switch strings.ToLower(me.Key) {
			case "port":
				d.Int("echo port", me.Value, &echo.Port)
			default:
				d.Errorf(me.KeyPos, config.ErrUnknownField, "unknown field %q", me.Key)
			}
		}
	})
	p.Register("gateway", config.NotSupported)

	m, err := confparse.ParseWithOptions("echo.conf", []byte("port: 4333\necho { port: 7 }\n"), confparse.Options{})
	if err != nil {
		panic(err)
	}
	c := config.Default()
	if _, err := p.Apply(&c, m); err != nil {
		panic(err)
	}
	fmt.Println(c.Options.Port, echo.Port)

	m, _ = confparse.ParseWithOptions("echo.conf", []byte("echo { colour: red }\ngateway { port: 7222 }\n"), confparse.Options{})
	c = config.Default()
	_, err = p.Apply(&c, m)
	fmt.Println(err)
	// Output:
	// 4333 7
	// echo.conf:1:8: unknown field "colour"
	// echo.conf:2:1: gateway is not supported yet
}
