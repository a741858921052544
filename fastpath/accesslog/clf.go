package accesslog

import (
	"strconv"
	"time"
)

// appendCLFDirect is appendCLF written straight from the record, for a
// log whose lines show no header (Referer and User-Agent are then "-"):
// the same line without gathering Traefik's 33 fields first, so that
// the common format costs what its 160 bytes cost. TestCLFDirect holds
// it to appendCLF.
func (l *Logger) appendCLFDirect(b []byte, r *Record, common bool) []byte {
	keep := &l.keep
	dash := func(b []byte, k coreKey, v []byte) []byte {
		if !keep[k] || len(v) == 0 {
			return append(b, '-')
		}
		return append(b, v...)
	}
	number := func(b []byte, k coreKey, n int64) []byte {
		if !keep[k] {
			return append(b, '-')
		}
		return strconv.AppendInt(b, n, 10)
	}
	host := r.ClientIP
	if len(r.ForwardedFor) > 0 {
		host = r.ForwardedFor
	}
	b = append(dash(b, keyClientHost, host), " - "...)
	if r.UserSet {
		b = dash(b, keyClientUsername, r.User)
	} else {
		b = append(b, '-')
	}
	b = append(b, " ["...)
	switch {
	case keep[keyStartUTC]:
		b = l.clfUTC.format(b, r.Start.UTC(), clfTime)
	case keep[keyStartLocal]:
		b = l.clfLocal.format(b, r.Start.Local(), clfTime)
	default:
		b = append(b, '-')
	}
	b = append(dash(append(b, "] \""...), keyRequestMethod, r.Method), ' ')
	if keep[keyRequestPath] {
		n := len(b)
		if b = requestPath(b, r.URI, l.cfg.Fields.DropQuery); len(b) == n {
			b = append(b, '-')
		}
	} else {
		b = append(b, '-')
	}
	b = append(dash(append(b, ' '), keyRequestProtocol, r.Proto), "\" "...)
	b = append(number(b, keyDownstreamStatus, int64(r.Status)), ' ')
	b = append(number(b, keyDownstreamContentSize, r.Size), ` "-" "-"`...)
	if !common {
		return append(b, '\n')
	}
	return l.appendCommonTail(append(number(append(b, ' '), keyRequestCount, int64(r.count)), ' '), r)
}

// appendCommonTail is the common format's end: the router, the server
// URL and the duration.
func (l *Logger) appendCommonTail(b []byte, r *Record) []byte {
	keep := &l.keep
	switch {
	case !keep[keyRouterName] || r.Router == "" && r.ChildRouter == "":
		b = append(b, `"-"`...)
	case r.ChildRouter != "":
		b = appendQuoted(append(appendQuoted(append(b, '"'), r.Router), " -> "...), r.ChildRouter)
		b = append(b, '"')
	default:
		b = append(appendQuoted(append(b, '"'), r.Router), '"')
	}
	b = append(b, ' ')
	if keep[keyServiceURL] && r.Service != "" && r.ServiceURL != "" {
		b = append(appendQuoted(append(b, '"'), r.ServiceURL), '"')
	} else {
		b = append(b, `"-"`...)
	}
	var ms int64
	if keep[keyDuration] {
		ms = int64(r.Duration / time.Millisecond)
	}
	b = strconv.AppendInt(append(b, ' '), ms, 10)
	return append(b, "ms\n"...)
}

// appendQuoted appends s with a backslash before each '"', as
// appendCLF's quoted does.
func appendQuoted(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return b
}
