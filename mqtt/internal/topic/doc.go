// Package topic maps MQTT topic names and filters to NATS subjects and
// back, the way nats-server does, so MQTT and NATS clients of one server
// exchange messages on the same names.
//
// # Mapping
//
// Each MQTT level becomes one NATS token:
//
//	MQTT            NATS          rule
//	a/b             a.b           '/' between levels is '.'
//	/a              /.a           an empty level is the token "/"
//	a/              a./           (leading, trailing, or between two '/')
//	a//b            a./.b
//	/               /./
//	a.b             a//b          '.' inside a level is "//"
//	a/+/b           a.*.b         '+' is '*'
//	a/#             a, a.>        '#' is '>', and also matches its parent
//	#               >
//
// The way back (AppendTopic) reads "//" as '.', '.' as '/', and drops any
// other '/', so it inverts AppendSubject and turns any NATS subject into a
// topic as nats-server does (a.b/c becomes a/bc).
//
// # Refused topics
//
// Like nats-server v2.15.2, a topic with a space, tab, CR, LF or DEL maps
// to no subject. natsd also refuses the other control characters (U+0000
// to U+001F), which nats-server passes on, and, unlike nats-server, a
// level that is exactly "*" or ">", which would make a NATS wildcard out
// of a literal MQTT level.
//
// # Memory
//
// AppendSubject and AppendTopic append to the caller's buffer and do not
// allocate when it has room.
package topic
