package cluster_test

// The clustered $SYS tests (TestStatszAcrossNodes) need the system
// services, which live in their own package since issue 12.
import _ "natsd.dev/server/sys"
