package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sluiceproxy/sluice/compile"
	"github.com/sluiceproxy/sluice/fastpath/accesslog"
)

// startAccessLog opens --accessLog's log, reopened on SIGUSR1 (as
// Traefik's, for logrotate), its dropped lines counted in the metrics
// and failing writes reported in Sluice's own log.
func (p *proxy) startAccessLog(ctx context.Context, copts *compile.Options) error {
	if p.cfg.AccessLog == nil {
		return nil
	}
	cfg := *p.cfg.AccessLog
	cfg.OnWriteError = func(err error, lost uint64) {
		if err != nil {
			p.log.Error("access log: writing failed; lines are dropped until a write succeeds", "error", err, "linesLost", lost)
		} else {
			p.log.Info("access log: writing succeeds again", "linesLost", lost)
		}
	}
	l, err := accesslog.New(cfg)
	if err != nil {
		return err
	}
	p.accessLog = l
	copts.AccessLogInternals = p.cfg.AccessLogInternals
	if p.metrics != nil {
		p.metrics.Global.AccessLogDropped = l.Dropped
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		defer signal.Stop(sig)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				if err := l.Reopen(); err != nil {
					p.log.Error("access log not reopened", "error", err)
				} else {
					p.log.Info("access log reopened (SIGUSR1)")
				}
			}
		}
	}()
	return nil
}
