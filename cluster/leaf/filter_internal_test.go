package leaf

import "testing"

func TestDenyWithin(t *testing.T) {
	d, err := compileDeny("test", []string{"secret.>", "a.*.c", "exact"})
	if err != nil {
		t.Fatal(err)
	}
	for subject, denied := range map[string]bool{
		"secret.x": true, "secret.x.y": true, "secret": false, "secret.*": true, "secret.>": true,
		"a.b.c": true, "a.*.c": true, "a.>": false, "a.b.c.d": false, "a.b": false,
		"exact": true, "exact.more": false, "other": false, "*": false, ">": false,
	} {
		if got := d.denies([]byte(subject)); got != denied {
			t.Errorf("denies(%q) = %v, want %v", subject, got, denied)
		}
	}
	if _, err := compileDeny("test", []string{"bad..subject"}); err == nil {
		t.Error("an invalid subject compiled")
	}
	var none *denyList
	if none.denies([]byte("x")) || !none.Allow([]byte("x")) {
		t.Error("a nil list denies")
	}
}
