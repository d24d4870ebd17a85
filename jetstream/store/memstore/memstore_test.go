package memstore_test

import (
	"testing"

	"natsd.dev/jetstream/store"
	"natsd.dev/jetstream/store/memstore"
	"natsd.dev/jetstream/store/storetest"
)

func open(t *testing.T, cfg store.Config) store.StreamStore {
	s, err := memstore.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, open)
}
