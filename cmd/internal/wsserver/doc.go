// Package wsserver serves NATS clients over WebSocket on a server.Server:
// the glue between the websocket module (the RFC 6455 transport, which
// knows nothing of NATS) and the core (which knows no transport). It lives
// in the command because it is the only place that may import both.
//
// Block parses the websocket {} block into Options; Start binds the
// listener, wraps each upgraded connection so that the core sees a
// server.TransportConn (kind "websocket") and a server.CredentialsConn
// (the user_cookie, pass_cookie and token_cookie of the upgrade request),
// and hands them to server.ServeWebsocket with what INFO
// (ws_connect_urls) reports. While the listener runs it contributes the
// websocket section of /varz (server.RegisterVarz "websocket"); the
// section goes when the server closes the listener at Shutdown, and stays
// through lame duck mode (server.AddLameDuckListener), which closes the
// listener only to refuse new clients. Handshake failures are logged on
// the server's logger as upstream logs them.
// Listener.Reload applies a reloaded block to the next handshakes (TLS
// certificates, origins, compression, handshake timeout, cookies);
// Listener.SetTLSConfig replaces the TLS configuration alone.
//
// Each connection's compressed messages are capped when it comes
// (websocket.Conn.SetMaxMessageSize): at the server's max_payload for NATS
// clients, plus Endpoint.MessageOverhead for an endpoint's; past the cap
// the transport closes it with 1009.
//
// Options.Endpoints hand the connections upgraded on other URL paths to
// other protocols: the command serves MQTT on /mqtt so (through
// mqtt.MQTT's ServeConn), as upstream does on its websocket port,
// without this package knowing MQTT.
//
// Options.Leaf takes the leaf nodes that upgrade on a path starting with
// /leafnode (LeafPath), as upstream's websocket port accepts its leaf
// remotes' ws:// and wss:// connections; those alone may send unmasked
// frames when they asked for it (Nats-No-Masking, a remote's
// ws_no_masking), and their messages are held to the transport's 64 MiB
// rather than max_payload, since a leaf node flushes batches. Without
// Options.Leaf (no leafnodes port) they are closed after the upgrade
// with upstream's log line.
//
// # Usage
//
//	var wo wsserver.Options
//	var p config.Parser
//	p.Register("websocket", wsserver.Block(&wo))
//	p.Register("ws", wsserver.Block(&wo))
//	cfg, warnings, err := p.ParseFile(path, confparse.Options{})
//	...
//	opts := cfg.Options
//	var ws *wsserver.Listener
//	if wo.Port != 0 {
//		opts.OnStart = append(opts.OnStart, func(s *server.Server) (err error) {
//			ws, err = wsserver.Start(s, wo)
//			return err
//		})
//	}
//	s, err := server.New(opts)
//	err = s.Start() // the WebSocket listener starts before the client listener
package wsserver
