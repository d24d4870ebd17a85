// Package logger is a log/slog handler that writes the line format of the
// upstream nats-server, so that log shippers, grep patterns and dashboards
// written for nats-server keep working with natsd:
//
//	[4242] 2026/11/22 13:05:01.123456 [INF] Server is ready
//
// A line is the process id in brackets, the local (or UTC) time with
// microseconds, a three-letter level tag and the message. The time can be
// turned off (the -T=false / logtime: false of nats-server), which gives
//
//	[4242] [INF] Server is ready
//
// # Levels
//
// slog levels map to upstream's tags: LevelTrace (-8) and below is TRC,
// debug is DBG, info is INF, warn is WRN, error is ERR and LevelFatal (12)
// and above is FTL. The handler drops records below Options.Level.
//
// # Outputs
//
// NewHandler writes to any io.Writer: os.Stderr (the default of
// nats-server), or a *File from OpenFile, which rotates itself when it
// grows past a size limit (log_size_limit) and keeps a bounded number of
// backups (logfile_max_num), naming them as upstream does:
// "<file>.YYYY.MM.DD.hh.mm.ss.nnnnnnnnn". File.Reopen reopens the path
// after an external tool moved the file away (SIGUSR1). NewSyslogHandler
// sends records to the local syslog daemon or to a remote one
// (udp://host:port, tcp://host:port, unix:///path).
//
// # Attributes
//
// natsd components pass preformatted messages. Attributes, when present,
// are appended after the message as key=value pairs (groups as
// group.key=value), so nothing given to the logger is lost.
//
// # Concurrency
//
// A Handler and the handlers derived from it with WithAttrs or WithGroup
// share one output and serialise writes to it: every record is written
// with a single Write call, so lines never interleave. All types are safe
// for concurrent use.
package logger
