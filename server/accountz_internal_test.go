package server

import (
	"testing"

	"github.com/stretchr/testify/require"

	"natsd.dev/server/snapshot"
)

// mapDests shows a mapping's weights as upstream's /accountz: summed up
// within each group (every cluster first, then each cluster by name),
// with the part left unmapped as the source subject at 100.
func TestMapDests(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Mapping
		want []*snapshot.MapDest
	}{
		{"one without weight", Mapping{Source: "a", Destinations: []MapDestination{{Subject: "b"}}},
			[]*snapshot.MapDest{{Subject: "b", Weight: 100}}},
		{"split", Mapping{Source: "a", Destinations: []MapDestination{{Subject: "b", Weight: 40}, {Subject: "c", Weight: 60}}},
			[]*snapshot.MapDest{{Subject: "b", Weight: 40}, {Subject: "c", Weight: 100}}},
		{"part", Mapping{Source: "a", Destinations: []MapDestination{{Subject: "b", Weight: 30}}},
			[]*snapshot.MapDest{{Subject: "b", Weight: 30}, {Subject: "a", Weight: 100}}},
		{"clusters", Mapping{Source: "a", Destinations: []MapDestination{
			{Subject: "z", Weight: 50, Cluster: "west"}, {Subject: "b", Weight: 100}, {Subject: "y", Weight: 100, Cluster: "east"}}},
			[]*snapshot.MapDest{{Subject: "b", Weight: 100}, {Subject: "y", Weight: 100, Cluster: "east"},
				{Subject: "z", Weight: 50, Cluster: "west"}, {Subject: "a", Weight: 100, Cluster: "west"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, mapDests(&tc.m))
		})
	}
}
