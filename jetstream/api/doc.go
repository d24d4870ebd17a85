// Package api holds the JSON shapes of the JetStream API ($JS.API.>): the
// stream configuration and information, the requests and responses of
// every call, the PubAck, the errors with their codes, and the advisories.
// Field names, enumeration spellings, type strings and error texts are
// those of the upstream server, so that every client and tool reads them
// unchanged. The package has no logic beyond validation of enumerations
// while decoding.
package api
