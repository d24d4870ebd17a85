package mondoc

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
