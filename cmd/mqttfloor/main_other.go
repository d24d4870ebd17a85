//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "mqttfloor: Linux only")
	os.Exit(1)
}
