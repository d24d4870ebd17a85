// Package browsertest holds the browser end-to-end test of natsd's
// WebSocket transport: headless Chromium loads a page that uses the
// official NATS JavaScript client (@nats-io/nats-core, wsconnect) and
// talks through the server to a Go client on TCP.
//
// The page and its npm dependencies live in testdata/. The test builds the
// bundle with esbuild (npm run build) and skips itself when chromium or
// testdata/node_modules is missing; .ci/run installs both.
package browsertest
