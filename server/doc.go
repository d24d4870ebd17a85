// Package server is the natsd broker core: listeners, client connections,
// accounts and message delivery.
package server
