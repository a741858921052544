package kube

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Options are Traefik's providers.kubernetesCRD options that concern the
// watch, plus Sluice's coalescing knobs.
type Options struct {
	Endpoint                     string // API server URL (overrides in-cluster host; used with Token/CA outside)
	Token                        string // bearer token, or a path to a file holding it
	CertAuthFilePath             string
	Kubeconfig                   string // --kubeconfig; else $KUBECONFIG when not in a cluster
	Namespaces                   []string
	LabelSelector                string // Traefik CRDs only
	DisableClusterScopeResources bool   // no Node informer
	ThrottleDuration             time.Duration
	HoldOff                      time.Duration // quiet time awaited after an event (default 50ms)
	MaxHoldOff                   time.Duration // longest a burst of events is held (default 500ms)
	Resync                       time.Duration // informer resync (Traefik: 10 min)
	Logger                       *slog.Logger
}

func (o *Options) defaults() {
	if o.HoldOff <= 0 {
		o.HoldOff = 50 * time.Millisecond
	}
	if o.MaxHoldOff < o.HoldOff {
		o.MaxHoldOff = max(500*time.Millisecond, o.HoldOff)
	}
	if o.Resync == 0 {
		o.Resync = 10 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if len(o.Namespaces) == 0 {
		o.Namespaces = []string{""}
	}
}

// RESTConfig chooses the client configuration as Traefik does: in a
// cluster the pod's service account (endpoint overriding the host); else
// --kubeconfig, then $KUBECONFIG; else endpoint, token and CA file.
func RESTConfig(o Options) (*rest.Config, error) {
	var cfg *rest.Config
	var err error
	switch {
	case o.Kubeconfig != "":
		cfg, err = clientcmd.BuildConfigFromFlags(o.Endpoint, o.Kubeconfig)
	case os.Getenv("KUBERNETES_SERVICE_HOST") != "" && os.Getenv("KUBERNETES_SERVICE_PORT") != "":
		cfg, err = rest.InClusterConfig()
		if err == nil && o.Endpoint != "" {
			cfg.Host = o.Endpoint
		}
	case os.Getenv("KUBECONFIG") != "":
		cfg, err = clientcmd.BuildConfigFromFlags(o.Endpoint, os.Getenv("KUBECONFIG"))
	default:
		cfg, err = externalConfig(o)
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	cfg.UserAgent = "sluice"
	return cfg, nil
}

func externalConfig(o Options) (*rest.Config, error) {
	if o.Endpoint == "" {
		return nil, fmt.Errorf("not in a cluster and no kubeconfig: set --providers.kubernetesCRD.endpoint, --kubeconfig or $KUBECONFIG")
	}
	cfg := &rest.Config{Host: o.Endpoint}
	if o.CertAuthFilePath != "" {
		cfg.TLSClientConfig.CAFile = o.CertAuthFilePath
	}
	if o.Token != "" {
		cfg.BearerToken = o.Token
		if data, err := os.ReadFile(o.Token); err == nil {
			cfg.BearerToken = strings.TrimSpace(string(data))
		}
	}
	return cfg, nil
}
