//go:build !linux

package sublist_test

import "time"

// threadCPU is not available here; the cpu-ns/op metric reads 0.
func threadCPU() time.Duration { return 0 }
