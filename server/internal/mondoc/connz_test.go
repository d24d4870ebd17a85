package mondoc

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"natsd.dev/server/snapshot"
)

func TestFormatUptime(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{-time.Second, "0s"},
		{999 * time.Millisecond, "0s"},
		{59 * time.Second, "59s"},
		{61 * time.Second, "1m1s"},
		{time.Hour + 5*time.Second, "1h0m5s"},
		{26*time.Hour + 3*time.Minute + 4*time.Second, "1d2h3m4s"},
		{(366*24 + 1) * time.Hour, "1y1d1h0m0s"},
	} {
		require.Equal(t, tc.want, FormatUptime(tc.d), tc.d.String())
	}
	require.Equal(t, "0s", FormatRTT(0))
	require.Equal(t, "123µs", FormatRTT(123456*time.Nanosecond))
	require.Equal(t, "1.234567ms", FormatRTT(1234567*time.Nanosecond))
}

func TestSubjectsCollide(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"foo", "foo", true},
		{"foo", "bar", false},
		{"foo.*", "foo.bar", true},
		{"foo.*", "foo.bar.baz", false},
		{"foo.>", "foo.bar.baz", true},
		{"foo.>", "foo", false},
		{"*.bar", "foo.*", true},
		{">", "a.b.c", true},
		{"a.b", "a.b.c", false},
		{"a.*.c", "a.b.d", false},
	} {
		require.Equal(t, tc.want, SubjectsCollide(tc.a, tc.b), "%s ~ %s", tc.a, tc.b)
		require.Equal(t, tc.want, SubjectsCollide(tc.b, tc.a), "%s ~ %s", tc.b, tc.a)
	}
}

// TestPageBounds: offsets and limits near the int bounds (a /connz or
// $SYS CONNZ/SUBSZ request may carry any) give a bounded page, never a
// panic (GHSA-q59r-vq66-pxc2).
func TestPageBounds(t *testing.T) {
	keys := []Key{{K: 3, Cid: 3}, {K: 1, Cid: 1}, {K: 2, Cid: 2}}
	const maxInt, minInt = int(^uint(0) >> 1), -int(^uint(0)>>1) - 1
	for _, tc := range []struct{ offset, limit, want int }{
		{0, 2, 2}, {1, maxInt, 2}, {maxInt, maxInt, 0}, {maxInt, 1, 0}, {2, maxInt - 1, 1},
		{-1, 2, 2}, {minInt, minInt, 0}, {0, -5, 0}, {3, 1, 0},
	} {
		page := Page(keys, tc.offset, tc.limit)
		require.Len(t, page, tc.want, "offset %d limit %d", tc.offset, tc.limit)
	}
	require.Equal(t, uint64(2), Page(keys, 1, 1)[0].Cid)
	for _, tc := range []struct{ offset, limit, want int }{
		{maxInt, maxInt, 0}, {1, maxInt, 2}, {minInt, minInt, 0}, {0, 1, 1},
	} {
		sz := &snapshot.Subsz{Offset: tc.offset, Limit: tc.limit}
		PageSubs(sz, make([]snapshot.SubDetail, 3))
		require.Len(t, sz.Subs, tc.want, "subsz offset %d limit %d", tc.offset, tc.limit)
	}
}
