package main

import (
	"context"
	"flag"
	"os"
	"os/signal"
	"time"

	"natsd.dev/jetstream"
	"natsd.dev/server"
)

func main() {
	port := flag.Int("p", 4333, "port")
	sd := flag.String("sd", "/tmp/jsq", "store")
	si := flag.Duration("si", 0, "sync interval")
	flag.Parse()
	s, err := server.New(server.Options{Host: "127.0.0.1", Port: *port})
	if err != nil {
		panic(err)
	}
	if err := s.Start(); err != nil {
		panic(err)
	}
	js, err := jetstream.Start(s, jetstream.Options{StoreDir: *sd, SyncInterval: *si})
	if err != nil {
		panic(err)
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	<-ch
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	js.Shutdown(ctx)
	s.Shutdown(ctx)
}
