//go:build !windows && !plan9

package logger

import "log/syslog"

func dialSyslog(network, addr, tag string) (syslogWriter, error) {
	if network == "" {
		return syslog.New(syslog.LOG_DAEMON|syslog.LOG_NOTICE, tag)
	}
	return syslog.Dial(network, addr, syslog.LOG_DEBUG, tag)
}
