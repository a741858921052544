package watch

import "github.com/sluiceproxy/sluice/compile/model"

// newObject returns where to decode an object of the given API group and
// kind, or nil for kinds Sluice does not read.
func newObject(group, kind string, origin model.Origin) any {
	switch {
	case group == "traefik.io" && kind == "IngressRoute":
		return &model.IngressRoute{Origin: origin}
	case group == "v1" && kind == "Service":
		return &model.Service{Origin: origin}
	case group == "v1" && kind == "Node":
		return &model.Node{}
	case group == "v1" && kind == "Secret":
		return &model.Secret{Origin: origin}
	case group == "v1" && kind == "ConfigMap":
		return &model.ConfigMap{Origin: origin}
	case group == "discovery.k8s.io" && kind == "EndpointSlice":
		return &model.EndpointSlice{Origin: origin}
	case group == "traefik.io" && kind == "Middleware":
		return &model.Middleware{Origin: origin}
	case group == "traefik.io" && kind == "TraefikService":
		return &model.TraefikService{Origin: origin}
	case group == "traefik.io" && kind == "TLSOption":
		return &model.TLSOption{Origin: origin}
	case group == "traefik.io" && kind == "TLSStore":
		return &model.TLSStore{Origin: origin}
	case group == "traefik.io" && kind == "ServersTransport":
		return &model.ServersTransport{Origin: origin}
	}
	return nil
}

// setNamespace sets the namespace of a decoded object; Nodes are
// cluster-scoped and keep none.
func setNamespace(obj any, ns string) {
	if _, node := obj.(*model.Node); node {
		ns = ""
	}
	if m := model.MetaOf(obj); m != nil {
		m.Namespace = ns
	}
}

// Add appends a decoded object to the snapshot's list of its kind.
func Add(s *model.Snapshot, obj any) {
	switch o := obj.(type) {
	case *model.IngressRoute:
		s.IngressRoutes = append(s.IngressRoutes, o)
	case *model.Service:
		s.Services = append(s.Services, o)
	case *model.EndpointSlice:
		s.EndpointSlices = append(s.EndpointSlices, o)
	case *model.Secret:
		s.Secrets = append(s.Secrets, o)
	case *model.ConfigMap:
		s.ConfigMaps = append(s.ConfigMaps, o)
	case *model.Node:
		s.Nodes = append(s.Nodes, o)
	case *model.Middleware:
		s.Middlewares = append(s.Middlewares, o)
	case *model.TraefikService:
		s.TraefikServices = append(s.TraefikServices, o)
	case *model.TLSOption:
		s.TLSOptions = append(s.TLSOptions, o)
	case *model.TLSStore:
		s.TLSStores = append(s.TLSStores, o)
	case *model.ServersTransport:
		s.ServersTransports = append(s.ServersTransports, o)
	}
}
