package confparse_test

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"natsd.dev/confparse"
)

func ExampleDecoder() {
	conf := []byte(`port: "4222"
ping_interval: 120
write_deadline: "2s"
server_tags: [east, 7]
`)
	m, err := confparse.ParseWithOptions("server.conf", conf, confparse.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	var opts struct {
		Port          int
		PingInterval  time.Duration
		WriteDeadline time.Duration
		Tags          []string
	}
	var d confparse.Decoder
	for _, e := range m.Entries {
		switch strings.ToLower(e.Key) {
		case "port":
			d.Int(e.Key, e.Value, &opts.Port)
		case "ping_interval":
			d.Duration(e.Key, e.Value, &opts.PingInterval)
		case "write_deadline":
			d.Duration(e.Key, e.Value, &opts.WriteDeadline)
		case "server_tags":
			d.Strings(e.Key, e.Value, &opts.Tags)
		}
	}
	fmt.Println(d.Err())
	fmt.Println(d.Warnings)
	fmt.Println("bad value:", errors.Is(d.Err(), confparse.ErrBadValue))
	fmt.Println(opts.PingInterval, opts.WriteDeadline, opts.Tags)
	// Output:
	// server.conf:1:7: port: expected an integer, got string "4222"
	// server.conf:4:21: server_tags: expected a string, got integer 7
	// server.conf:2:16: invalid use of field "ping_interval": ping_interval should be converted to a duration
	// bad value: true
	// 2m0s 2s [east]
}
