package sys

import (
	"testing"
	"testing/synctest"
)

func synctestRun(t *testing.T, f func(*testing.T)) { synctest.Test(t, f) }
