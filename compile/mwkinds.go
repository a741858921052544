package compile

import (
	"errors"

	"github.com/sluiceproxy/sluice/compile/model"
	"github.com/sluiceproxy/sluice/fastpath/middleware"
	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// kindBuilder builds the handler of one middleware kind from its spec.
type kindBuilder func(c *compiler, m *model.Middleware) (pipeline.Middleware, error)

// kindBuilders are the kinds Sluice serves, by their JSON names.
var kindBuilders = map[string]kindBuilder{
	"addPrefix": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		return middleware.AddPrefix{Prefix: m.Spec.AddPrefix.Prefix}.Middleware()
	},
	"stripPrefix": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		s := m.Spec.StripPrefix
		return middleware.StripPrefix{Prefixes: s.Prefixes, ForceSlash: s.ForceSlash != nil && *s.ForceSlash}.Middleware()
	},
	"stripPrefixRegex": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		return middleware.StripPrefixRegex{Regex: m.Spec.StripPrefixRegex.Regex}.Middleware()
	},
	"replacePath": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		return middleware.ReplacePath{Path: m.Spec.ReplacePath.Path}.Middleware()
	},
	"replacePathRegex": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		s := m.Spec.ReplacePathRegex
		return middleware.ReplacePathRegex{Regex: s.Regex, Replacement: s.Replacement}.Middleware()
	},
	"redirectScheme": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		s := m.Spec.RedirectScheme
		return middleware.RedirectScheme{Scheme: s.Scheme, Port: s.Port, Permanent: s.Permanent}.Middleware()
	},
	"redirectRegex": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		s := m.Spec.RedirectRegex
		return middleware.RedirectRegex{Regex: s.Regex, Replacement: s.Replacement, Permanent: s.Permanent}.Middleware()
	},
	"plugin": func(_ *compiler, m *model.Middleware) (pipeline.Middleware, error) {
		return nil, errors.New("plugins (Yaegi or WASM) are not supported by Sluice; the route is not served without it")
	},
}
