// Package confparse parses the NATS configuration language into a tree of
// values that remember where they were written.
//
// It reads the configuration files upstream nats-server 2.x accepts
// (including JSON files) and gives the same values; the known differences
// are listed under Compatibility. It does not know what any key means: each
// module turns its block of the tree into its own options and reports
// problems at the Pos of the offending value.
//
// # Usage
//
//	m, err := confparse.ParseFile("/etc/nats/nats-server.conf")
//	if err != nil {
//		// err is an ErrorList: one "file:line:col: message" per problem.
//		return err
//	}
//	if v, ok := m.Get("port"); ok && v.Kind == confparse.KindInt {
//		port = v.Int
//	}
//	if c, ok := m.Get("cluster"); ok && c.Kind == confparse.KindMap {
//		for _, e := range c.Map.Entries {
//			// e.Key as written, e.KeyPos and e.Value.Pos for messages
//		}
//	}
//
// Parse and ParseWithOptions take text in memory; Options selects pedantic
// mode and replaces the environment and the file reader (for tests, or to
// refuse includes). Value.Interface and Map.Interface give plain Go values
// (map[string]any, []any, string, int64, float64, bool, time.Time) for
// code that does not care about positions. Format writes a tree back as
// configuration text.
//
// # Syntax
//
// A file is a block: a sequence of entries. At the top of a file, braces
// where a key is expected only group entries (which is what makes a JSON
// object a valid file), and trailing '}' are ignored, as in upstream.
//
//	file    = { entry | "{" | "}" }
//	entry   = key [ "=" | ":" ] value [ "," | ";" | newline | comment ]
//	        | "include" path
//	key     = bare-key | '"' chars '"' | "'" chars "'"
//	value   = map | array | quoted | block | $variable | number | bool
//	        | datetime | unquoted-string
//	map     = "{" { entry } "}"
//	array   = "[" [ value { ( "," | newline ) value } [ "," ] ] "]"
//
// Examples of each form:
//
//	port: 4222                # separators: '=', ':' or just blanks
//	host = 127.0.0.1          # dotted and host:port values are strings
//	debug true                # booleans: true/false, yes/no, on/off (any case)
//	// comments start with '#' or '//' where a key or the end of a value
//	// is expected; inside a value ("nats://h:4222") they are text
//	cluster {                 # a map; the brace may also go on the next line
//	  name: "east"; listen: 0.0.0.0:6222, routes: [
//	    nats://r1:6222        # array elements: ',' and/or newlines
//	    nats://r2:6222,
//	  ]
//	}
//	max_payload: 8MB          # sizes, see below
//	timeout: 2.5              # floats; -1 and -0.5 are negative numbers
//	ping_interval: "2m"       # durations are strings; quote them, since
//	                          # unquoted 2m is the size 2000000
//	start: 2016-05-04T18:53:41Z   # datetime (KindTime), Zulu form only
//	token: "s3cr\"t\x41\n"    # escapes: \t \n \r \" \\ \xHH, and \uHHHH,
//	                          # \/ \b \f for JSON input
//	raw: 'no $var, no \escapes'
//	text: (
//	any text, kept as is up to a line holding only ')'
//	)
//
// A value starts on the line of its '=' or ':' (as in upstream); without a
// separator it may start on a later line. Bare keys run up to a blank,
// '=', ':', or one of {}[],;#"'. Unquoted
// values run up to a blank, a newline, or one of ,;]}. An unquoted value
// that starts with a digit or '-' is a number only if it is entirely one:
// 127.0.0.1:4222, 2s, 1h30m and 3secret are strings, as in upstream.
// Unquoted values also decode backslash escapes, as upstream does.
//
// Integers take a size suffix, case-insensitive, as in upstream: k, m, g,
// t, p, e multiply by powers of 1000 (1k = 1000); kb, mb, ... eb and the
// binary forms ki/kib, mi/mib, ... ei/eib multiply by powers of 1024
// (1kb = 1KiB = 1024). A result outside int64 is an error.
//
// A block string starts with '(' and ends before the newline that precedes
// a line consisting of ')' only, at column 1. Its text keeps the newline
// right after '(' (upstream does the same), so trim it if it matters.
//
// # Variables
//
// An unquoted value $name is replaced by a value defined earlier:
//
//	TOKEN: "s3cr3t"
//	authorization { token: $TOKEN }
//
// The name is looked up among the keys (case-sensitive) already written in
// the enclosing blocks, innermost first, then in the environment. An
// environment value is parsed like a value in a file, so MAX=100 gives the
// integer 100 and ROUTES="[a, b]" an array; a value that is not one value
// ("two words") is taken as a string. "$x" and '$x' in quotes are plain
// text, and an unquoted $2a$..., $2b$... or $2y$... is a bcrypt hash, not a
// reference.
//
// The substituted value carries the position of the reference and the
// variable's name in Value.Var. The defining entry stays in its block with
// Entry.UsedAsVariable set: upstream keeps such keys too and exempts them
// from "unknown field" checks, and callers validating options should do the
// same.
//
// A reference that nothing defines is an ErrUndefinedVariable error at the
// reference; an environment value that refers back to itself, directly or
// through other environment variables, is an ErrVariableCycle error.
//
// # Includes
//
//	include ./auth.conf
//	include "tls/common.conf"
//
// An include directive (the key include, in any case, unquoted and followed
// by a blank) parses the named file, relative to the directory of the file
// that includes it (the working directory for Parse), and merges its
// entries into the current block at that place. As in upstream, the
// included file is parsed on its own: its variables are visible after the
// include, but it cannot see the including file's variables (only the
// environment). Positions inside it name the included file. A file that
// includes itself, directly or indirectly, is an ErrInclude error, as is
// one that cannot be read.
//
// # Duplicate keys and pedantic mode
//
// A key written twice in one block (same spelling) keeps its first place
// and takes the last value, like upstream. Keys are kept as written, but
// Map.Get compares them case-insensitively because upstream's option
// processing lower-cases them. With Options.Pedantic, both a repeated key
// and keys that differ only in case are ErrDuplicateKey errors.
//
// # Errors
//
// A parse reports every problem it finds, not just the first: after an
// error it skips the rest of the broken line (stopping before a '}' or ']'
// that closes an enclosing block) and goes on. The error is an ErrorList,
// sorted by position, whose elements are *Error values that print as
// "file:line:col: message" and wrap one of ErrSyntax, ErrUndefinedVariable,
// ErrVariableCycle, ErrInclude or ErrDuplicateKey, so
//
//	errors.Is(err, confparse.ErrUndefinedVariable)
//
// works on the list. A parse stops after MaxErrors errors, at nesting
// deeper than MaxDepth, or when variables expand past MaxExpansion values;
// it never panics and its time is linear in its input. Line and column are 1-based; the column counts runes.
//
// # Compatibility
//
// confparse differs from upstream on purpose in these ways; it:
//   - reports bad input upstream silently drops or misreads: an unknown
//     size suffix (10kbb), integer overflow in a size, a key without a
//     value before '}';
//   - limits variable substitution to MaxExpansion copied values, so that
//     nested references cannot blow a small file up exponentially;
//   - accepts JSON niceties upstream rejects: 1e5 and 1.5e3 as floats,
//     \u, \/, \b, \f escapes, a separator at the start of the line after
//     a value (leading-comma style), and $2b$/$2y$ bcrypt hashes;
//   - ends a bare key at '{' or '[' too, so cluster{ ... } works;
//   - reads as strings some unquoted values upstream rejects: -x,
//     2016-05-04, 1.5k, 1. (a value that is not entirely a number);
//   - takes an environment value that does not parse as one value as a
//     string, where upstream fails;
//   - uses an absolute include path as is (upstream joins every include
//     path to the including file's directory) and reports include cycles
//     (upstream recurses until it fails);
//   - reports a top-level '{' that is never closed, and a stray '}'
//     before the last entry (upstream ignores trailing ones, and so does
//     confparse).
//
// # Decoding
//
// A Decoder turns values of a tree into typed fields for the module that
// owns a block: Str, Bool, Int, Int32, Int64, Duration (a duration string,
// or integer seconds with upstream's warning), StrictDuration, Seconds,
// Strings and StringValues (a string or an array of strings). A value of
// the wrong kind gives upstream's "key: expected <kind>, got <value>" at
// the value's Pos; every method reports and returns false instead of
// stopping, so one pass reports every problem:
//
//	var d confparse.Decoder
//	for _, e := range m.Entries {
//		switch strings.ToLower(e.Key) {
//		case "port":
//			d.Int(e.Key, e.Value, &opts.Port)
//		case "ping_interval":
//			d.Duration(e.Key, e.Value, &opts.PingInterval)
//		}
//	}
//	return d.Warnings, d.Err()
//
// Its errors wrap ErrBadValue (or Decoder.BadValue) and its warnings
// ErrWarning; Errorf and Warnf add a module's own checks to the same
// lists.
//
// # Memory
//
// The nodes of a tree are carved from a few large allocations, and strings
// point into one copy of the input; a value substituted from a variable
// shares its Map or Array with the definition. Treat a parsed tree as read-only, or copy what you modify.
// A parsed tree is not modified after the parse returns and may be read
// from many goroutines. Parses share no state and may run concurrently.
package confparse
