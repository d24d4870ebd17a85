// Command nats-server runs natsd, a drop-in replacement for the upstream
// NATS server.
//
// It takes the same flags as nats-server 2.x (run it with -h) and reads the
// same configuration files (-c). With no arguments it serves NATS clients
// on 0.0.0.0:4222:
//
//	go run ./cmd/nats-server
//	nats-server -c /etc/nats/nats-server.conf
//	nats-server -a 127.0.0.1 -p -1 --ports_file_dir /tmp   # random port
//	nats-server -c server.conf -t                         # check and exit
//
// Flags override the configuration file. Flags and configuration blocks of
// subsystems natsd does not have yet (gateways, leaf nodes, operator
// mode, OCSP, ...) are refused at startup with a "not supported yet"
// message, never ignored.
//
// The command is the composition root: it parses the file with a
// config.Parser (natsd.dev/server/config) on which it registers each
// module's block (cluster {}, websocket {} through cmd/internal/wsserver)
// and the refusers of the subsystems natsd does not have yet (gateway,
// leafnodes, jetstream, mqtt, operator, resolver, ...), so every error of
// the file is reported at once, in file order, with file:line:col.
//
// # Signals
//
//	SIGINT, SIGTERM  shut down gracefully and exit 0 (TERM is ignored while
//	                 lame duck mode runs)
//	SIGUSR1          reopen the log file (after logrotate moved it)
//	SIGHUP           reload the configuration file (reload.go: one diff
//	                 engine logs each key applied and each refused; a
//	                 refusal applies nothing); $SYS.REQ.SERVER.<id>.RELOAD
//	                 does the same
//	SIGUSR2          enter lame duck mode, then exit
//
// "nats-server --signal <command>[=<pid>|=<pid file>]" sends them: stop
// (KILL), quit (INT), term (TERM), reopen (USR1), reload (HUP) and ldm
// (USR2). Without a pid the only other running process with the same
// executable name is signalled.
//
// # Windows
//
// Started by the service control manager (sc.exe create nats-server
// binPath= "...\nats-server.exe -c ..."), the command runs as a Windows
// service: stop and shutdown stop it, parameter change reloads the
// configuration, the user-defined controls 128 and 129 reopen the log file
// and enter lame duck mode. There --signal <command>[=<service name>]
// sends those controls (default service nats-server), and -s and -r log to
// the event log as source NATS-Server. See docs/docker.md, which also
// describes the container image built from the repository's Dockerfile.
//
// # Files
//
// -P writes the process id to a file and --ports_file_dir writes
// "<executable_name>_<pid>.ports", a JSON document such as
// {"nats":["nats://127.0.0.1:4222"]}; both are removed at exit. With -c,
// the reload snapshot <tmp>/natsd_<pid>.reload.json (mode 0600) holds
// what the running configuration was parsed from, for
// "nats-server -t -c new.conf --reload-check <pid|pidfile>", which prints
// what a reload with new.conf would apply and refuse (reloadcheck.go).
package main
