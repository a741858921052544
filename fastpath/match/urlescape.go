package match

import "errors"

// Go's URL escaping of paths (net/url's shouldEscape in encodePath mode,
// validEncoded, PathUnescape), on bytes, for the path middlewares and the
// access log, which must give Go's (so Traefik's) results.

var errBadEscape = errors.New("invalid URL escape")

// UnescapePath appends url.PathUnescape(s) to dst.
func UnescapePath(dst, s []byte) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			dst = append(dst, c)
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return dst, errBadEscape
		}
		dst = append(dst, unhex(s[i+1])<<4|unhex(s[i+2]))
		i += 2
	}
	return dst, nil
}

// EscapePath appends url's escape(s, encodePath) to dst.
func EscapePath(dst, s []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range s {
		if ShouldEscapePath(c) {
			dst = append(dst, '%', hex[c>>4], hex[c&15])
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

func ShouldEscapePath(c byte) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
		return false
	}
	switch c {
	case '-', '_', '.', '~', '$', '&', '+', ',', '/', ':', ';', '=', '@':
		return false
	}
	return true
}

// ValidEncodedPath is url's validEncoded(s, encodePath).
func ValidEncodedPath(s []byte) bool {
	for _, c := range s {
		switch c {
		case '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@', '[', ']', '%':
		default:
			if ShouldEscapePath(c) {
				return false
			}
		}
	}
	return true
}

// AppendEscapedPath appends URL.EscapedPath() of the URL Go parses from
// the escaped path raw: raw itself when it is a valid encoding of its
// decoded form, else the decoded path escaped anew.
func AppendEscapedPath(dst, raw []byte) []byte {
	if ValidEncodedPath(raw) {
		return append(dst, raw...)
	}
	n := len(dst)
	dst, err := UnescapePath(dst, raw)
	if err != nil {
		return append(dst[:n], raw...)
	}
	decoded := string(dst[n:]) // a copy: dst is rewritten below
	return EscapePath(dst[:n], []byte(decoded))
}

// IsHex reports whether c is a hexadecimal digit.
func IsHex(c byte) bool { return isHex(c) }

// Unhex is a hexadecimal digit's value.
func Unhex(c byte) byte { return unhex(c) }
