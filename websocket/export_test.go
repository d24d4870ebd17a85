package websocket

// Exported for the black-box tests in package websocket_test.
var (
	AppendClientFrame = appendClientFrame
	DeflateForTest    = deflateForTest
	InflateForTest    = inflateForTest
)
