// Package config turns nats-server configuration files into the core's
// server.Options plus the settings of the process around it (logging, pid
// and ports files, the monitoring listener), and hands the blocks other
// modules own (cluster {}, websocket {}, jetstream {}, ...) to the
// functions those modules registered. The core keeps no list of other
// modules' keys: a key nobody registered is an unknown field, as it is for
// nats-server.
//
// The core's keys are the top-level ones of docs/configuration.md: the
// listener, limits, logging, the tls {} block of the client listener,
// authorization {}, accounts {} with their users, exports, imports,
// mappings and limits, and the system account. ParseTLSBlock,
// DecodeTLSBlock and HostPort give modules the same tls {} and listen
// parsing for their own blocks.
//
// # Registering a block
//
// A module that owns a block (cluster, websocket, jetstream, ...), or the
// composition root on its behalf (cmd/nats-server), does this:
//
//  1. Write a BlockFunc (top level) or an AccountBlockFunc (inside an
//     account's block: accounts { A { jetstream: ... } }). It receives
//     the entry with its key and value as the user wrote them (key case
//     included; matching is case-insensitive) and a *confparse.Decoder.
//  2. Decode the value into the module's own options with the Decoder's
//     typed readers (Int, Bool, StrictDuration, ...) and report every
//     problem through it: d.Errorf(pos, sentinel, ...) for errors, wrapping
//     ErrUnknownField, ErrNotSupported or ErrBadValue, with the position of
//     the key or value at fault; d.Warnf for warnings. Keep going after an
//     error so that the user sees every problem of the file at once. Errors
//     of a parser that returns a confparse.ErrorList are appended to
//     d.Errors as they are.
//  3. Keep the result in a variable the function's closure captures. A
//     Parser is built per parse (a reload parses again into fresh
//     variables, and the running configuration is compared with the new
//     one before anything changes).
//  4. Register it on the Parser: Register(key, f) for every spelling the
//     block has (websocket and ws), RegisterAccount(key, f) for account
//     keys. A key of the core or one registered twice panics: that is a
//     mistake of the composition, not of a file.
//  5. Call Parser.ParseFile (or Apply for a parsed tree). Functions run in
//     the order of the file, between the core's keys, on the goroutine of
//     the call. The result's err is a confparse.ErrorList with every error,
//     the blocks' included, each as file:line:col: message; warnings come
//     back separately and do not stop the parse (nats-server -t fails on
//     them). Config.Digest hashes the whole tree, registered blocks
//     included.
//
// A subsystem that is known but not implemented yet registers NotSupported
// (an error: the user expects the feature on) or Ignored (a warning, for
// keys that only tune behaviour), NotSupportedInAccount inside accounts.
//
// # Concurrency
//
// Register while composing, before parsing. Apply and ParseFile do not
// change the Parser and may run concurrently if the registered functions
// write to different places.
package config
