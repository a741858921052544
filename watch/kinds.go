package watch

import "github.com/sluiceproxy/sluice/compile/model"

type decodeTarget struct {
	ptr any
	add func(snap *model.Snapshot, ns string)
}

// newObject returns where to decode an object of the given API group and
// kind, or false for kinds Sluice does not read.
func newObject(group, kind, file string) (decodeTarget, bool) {
	origin := model.Origin{File: file}
	switch {
	case group == "traefik.io" && kind == "IngressRoute":
		o := &model.IngressRoute{Origin: origin}
		return decodeTarget{o, func(s *model.Snapshot, ns string) {
			o.Meta.Namespace = ns
			s.IngressRoutes = append(s.IngressRoutes, o)
		}}, true
	case group == "v1" && kind == "Service":
		o := &model.Service{Origin: origin}
		return decodeTarget{o, func(s *model.Snapshot, ns string) {
			o.Meta.Namespace = ns
			s.Services = append(s.Services, o)
		}}, true
	case group == "discovery.k8s.io" && kind == "EndpointSlice":
		o := &model.EndpointSlice{Origin: origin}
		return decodeTarget{o, func(s *model.Snapshot, ns string) {
			o.Meta.Namespace = ns
			s.EndpointSlices = append(s.EndpointSlices, o)
		}}, true
	case group == "traefik.io" && keptKinds[kind]:
		o := &model.Object{Origin: origin}
		return decodeTarget{o, func(s *model.Snapshot, ns string) {
			o.Meta.Namespace = ns
			list := map[string]*[]*model.Object{
				"Middleware": &s.Middlewares, "TraefikService": &s.TraefikServices, "TLSOption": &s.TLSOptions,
				"TLSStore": &s.TLSStores, "ServersTransport": &s.ServersTransports,
			}[kind]
			*list = append(*list, o)
		}}, true
	}
	return decodeTarget{}, false
}

// keptKinds are the traefik.io kinds decoded and kept but not served yet.
var keptKinds = map[string]bool{"Middleware": true, "TraefikService": true, "TLSOption": true, "TLSStore": true, "ServersTransport": true}
