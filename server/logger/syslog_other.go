//go:build windows || plan9

package logger

func dialSyslog(network, addr, tag string) (syslogWriter, error) {
	return nil, ErrSyslogUnsupported
}
