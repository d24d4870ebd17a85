package main

// The system account's services ($SYS requests, advisories, STATSZ) are a
// package of their own; importing it registers them with every server this
// binary creates (server.RegisterSystemService).
import _ "natsd.dev/server/sys"
