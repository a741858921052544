package middleware

import (
	"github.com/sluiceproxy/sluice/fastpath/match"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// EncodedCharacters is Traefik v3.7's encodedCharacters
// (pkg/middlewares/encodedcharacters): a request whose escaped path holds
// an encoded character that is not allowed (/, \, NUL, ;, %, ?, #; any
// case of the hex digits), or ends in an incomplete escape, is answered
// 400 with no body.
type EncodedCharacters struct {
	AllowEncodedSlash, AllowEncodedBackSlash, AllowEncodedNullCharacter, AllowEncodedSemicolon bool
	AllowEncodedPercent, AllowEncodedQuestionMark, AllowEncodedHash                            bool
}

// Middleware builds it.
func (e EncodedCharacters) Middleware() (pipeline.Middleware, error) {
	var denied [256]bool
	any := false
	for _, d := range []struct {
		allowed bool
		c       byte
	}{{e.AllowEncodedSlash, '/'}, {e.AllowEncodedBackSlash, '\\'}, {e.AllowEncodedNullCharacter, 0}, {e.AllowEncodedSemicolon, ';'},
		{e.AllowEncodedPercent, '%'}, {e.AllowEncodedQuestionMark, '?'}, {e.AllowEncodedHash, '#'}} {
		if !d.allowed {
			denied[d.c], any = true, true
		}
	}
	return func(next pipeline.Handler) pipeline.Handler {
		if !any {
			return next
		}
		return pipeline.HandlerFunc(func(x *pipeline.Exchange) {
			p, _, _ := x.RequestPath()
			for i := 0; i < len(p); i++ {
				if p[i] != '%' {
					continue
				}
				if i+2 >= len(p) || match.IsHex(p[i+1]) && match.IsHex(p[i+2]) && denied[match.Unhex(p[i+1])<<4|match.Unhex(p[i+2])] {
					x.RespondStatusText(400, nil)
					return
				}
				i += 2
			}
			next.Serve(x)
		})
	}, nil
}
