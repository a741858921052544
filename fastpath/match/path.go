package match

// AppendForwardPath appends to dst the request path as Traefik hands it on
// after Go's parsing, normalizePath and (if sanitize) sanitizePath
// (rules.md section 1 steps 3-5): Go's escaped form, unreserved escapes
// decoded, other escapes upper-cased, dot segments resolved and repeated
// slashes collapsed. raw is the path of the request target, without query.
// ok is false for the cases Traefik answers with 400.
func AppendForwardPath(dst, raw []byte, sanitize bool) ([]byte, bool) {
	if len(raw) == 0 {
		return append(dst, '/'), true
	}
	if raw[0] != '/' {
		if len(raw) == 1 && raw[0] == '*' {
			return append(dst, '*'), true
		}
		return dst, false
	}
	valid := true
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '#':
			return dst, false
		case c == '%':
			if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
				return dst, false
			}
		case !validEncodedByte(c):
			valid = false
		}
	}
	start := len(dst)
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '%' {
			b := unhex(raw[i+1])<<4 | unhex(raw[i+2])
			i += 2
			switch {
			case isUnreserved(b):
				dst = append(dst, b)
			case valid:
				dst = append(dst, '%', upperHex[b>>4], upperHex[b&15])
			default:
				// Go re-escapes the decoded path; a decoded byte that needs
				// no escape in a path is written as is.
				dst = appendPathEscaped(dst, b)
			}
			continue
		}
		if valid {
			dst = append(dst, c)
		} else {
			dst = appendPathEscaped(dst, c)
		}
	}
	if sanitize {
		dst = append(dst[:start], cleanPath(dst[start:])...)
	}
	return dst, true
}

// appendPathEscaped writes c as Go's escape(s, encodePath) does.
func appendPathEscaped(dst []byte, c byte) []byte {
	if isUnreserved(c) {
		return append(dst, c)
	}
	switch c {
	case '$', '&', '+', ',', '/', ':', ';', '=', '@':
		return append(dst, c)
	}
	return append(dst, '%', upperHex[c>>4], upperHex[c&15])
}

// AppendRoutingPath appends the routing path (rules.md 3.2) of a forward
// path: every escape is decoded except the reserved ones and %25.
func AppendRoutingPath(dst, esc []byte) []byte {
	for i := 0; i < len(esc); i++ {
		c := esc[i]
		if c != '%' || i+2 >= len(esc) {
			dst = append(dst, c)
			continue
		}
		b := unhex(esc[i+1])<<4 | unhex(esc[i+2])
		if isReserved(b) || b == '%' {
			dst = append(dst, '%', upperHex[b>>4], upperHex[b&15])
		} else {
			dst = append(dst, b)
		}
		i += 2
	}
	return dst
}

// cleanPath is Go's path.Clean for a rooted path, in place, keeping a
// trailing slash (URL.JoinPath).
func cleanPath(p []byte) []byte {
	trailing := len(p) > 1 && p[len(p)-1] == '/'
	w := 1 // p[0] == '/'
	for r := 1; r < len(p); {
		switch {
		case p[r] == '/':
			r++
		case p[r] == '.' && (r+1 == len(p) || p[r+1] == '/'):
			r++
		case p[r] == '.' && p[r+1] == '.' && (r+2 == len(p) || p[r+2] == '/'):
			r += 2
			if w > 1 {
				w--
				for w > 1 && p[w-1] != '/' {
					w--
				}
			}
		default:
			if w > 1 && p[w-1] != '/' {
				p[w] = '/'
				w++
			}
			if w > 1 && p[w-1] == '/' && p[w-2] == '/' {
				w--
			}
			for ; r < len(p) && p[r] != '/'; r++ {
				p[w] = p[r]
				w++
			}
		}
	}
	if w > 1 && p[w-1] == '/' {
		w--
	}
	if trailing && w > 1 {
		p[w] = '/'
		w++
	}
	return p[:w]
}

// AppendCanonicalHost appends lower(trim-space(strip-port(host))) (rules.md
// 3.1 step 2).
func AppendCanonicalHost(dst, host []byte) []byte {
	h := stripPort(host)
	for len(h) > 0 && isSpace(h[0]) {
		h = h[1:]
	}
	for len(h) > 0 && isSpace(h[len(h)-1]) {
		h = h[:len(h)-1]
	}
	for _, c := range h {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// stripPort follows net.SplitHostPort as Traefik's request decorator uses it.
func stripPort(h []byte) []byte {
	colon := -1
	for i, c := range h {
		if c == ':' {
			colon = i
		}
	}
	if colon < 0 {
		return h
	}
	if h[0] == '[' {
		end := -1
		for i, c := range h {
			if c == ']' {
				end = i
				break
			}
		}
		switch {
		case end < 0:
			return h
		case end+1 == len(h):
			return h[1:end] // "[::1]": split fails, brackets removed
		case end+1 == colon && countByte(h[end+1:], ':') == 1:
			return h[1:end]
		}
		return h
	}
	if countByte(h, ':') > 1 {
		return h // bare IPv6 stays
	}
	return h[:colon]
}

func countByte(b []byte, c byte) int {
	n := 0
	for _, x := range b {
		if x == c {
			n++
		}
	}
	return n
}

// ValidHostHeader reports whether Go's server accepts the Host value
// (httpguts.ValidHostHeader).
func ValidHostHeader(h []byte) bool {
	for _, c := range h {
		if c >= 0x80 || !validHostByte[c] {
			return false
		}
	}
	return true
}

var validHostByte = func() (t [128]bool) {
	for _, c := range "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!$%&'()*+,-.:;=[]_~" {
		t[c] = true
	}
	return t
}()

const upperHex = "0123456789ABCDEF"

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isUnreserved(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~'
}

// isReserved: the RFC 3986 gen-delims and sub-delims Traefik keeps encoded.
func isReserved(c byte) bool {
	switch c {
	case ':', '/', '?', '#', '[', ']', '@', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=':
		return true
	}
	return false
}

// validEncodedByte is Go's url.validEncoded for encodePath, minus '%'
// (checked separately).
func validEncodedByte(c byte) bool {
	switch c {
	case '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@', '[', ']', '/', '-', '.', '_', '~':
		return true
	}
	return isAlnum(c)
}

// CleanPath is Go's path.Clean for a rooted path, in place, keeping a
// trailing slash, as URL.JoinPath cleans one.
func CleanPath(p []byte) []byte {
	if len(p) == 0 || p[0] != '/' {
		return p
	}
	return cleanPath(p)
}
