package websocket

// Exported for the black-box tests in package websocket_test.
var (
	AppendClientFrame = appendClientFrame
	DeflateForTest    = deflateForTest
	InflateForTest    = inflateForTest
)

// AcceptKey is Sec-WebSocket-Accept for a key, for tests acting as servers.
var AcceptKey = acceptKey
