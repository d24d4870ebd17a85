package route_test

// The clustered $SYS tests (TestStatszAcrossNodes) need the system
// services, which live in their own package (server/sys).
import _ "natsd.dev/server/sys"
