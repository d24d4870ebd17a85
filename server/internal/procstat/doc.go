// Package procstat samples the server process's CPU use and resident
// memory for /varz (cpu, mem). On Linux it reads /proc/self; elsewhere
// CPU is 0 and memory is what the Go runtime obtained from the OS.
//
// Usage is safe for concurrent use; calls closer together than half a
// second return the previous CPU figure.
package procstat
