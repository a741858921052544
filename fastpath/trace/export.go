package trace

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"github.com/sluiceproxy/sluice/fastpath/internal/failrep"
)

// exporter batches finished requests' spans and posts them as OTLP/HTTP
// JSON, off the request path.
type exporter struct {
	cfg     *Config
	t       *Tracer
	queue   chan *Request
	dropped atomic.Uint64
	client  *http.Client
	done    chan struct{}
	stop    chan time.Duration
	body    []byte           // the batch being sent (the exporter's goroutine)
	grpc    *grpc.ClientConn // OTLP/gRPC (nil: OTLP/HTTP, or an endpoint gRPC refused)
	grpcErr error            // why grpc is nil for a gRPC endpoint
	fail    failrep.Reporter // export failures not yet said (Config.OnExportError)
	res     []kv             // the resource's attributes
	spans   []span           // the batch's spans (collect)
	kvs     []kv             // their attributes
}

// batchSize and batchDelay bound a batch, as OTel's batch span
// processor's defaults (512 spans, 5 s) would, sooner.
const (
	batchSize  = 128
	batchDelay = time.Second
)

func newExporter(cfg *Config, t *Tracer) *exporter {
	client := &http.Client{Timeout: 10 * time.Second}
	if cfg.TLS != nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = cfg.TLS
		client.Transport = tr
	}
	e := &exporter{cfg: cfg, t: t, queue: make(chan *Request, cfg.Queue), client: client, res: resource(cfg),
		done: make(chan struct{}), stop: make(chan time.Duration)}
	if cfg.GRPCEndpoint != "" {
		e.grpc, e.grpcErr = grpcConn(cfg) // nil: every batch fails, reported
	}
	go e.run()
	return e
}

// submit queues r; a full queue drops it (counted).
func (e *exporter) submit(r *Request) {
	select {
	case e.queue <- r:
	default:
		e.dropped.Add(1)
		e.t.pool.Put(r)
	}
}

func (e *exporter) run() {
	defer close(e.done)
	var batch []*Request
	tick := time.NewTimer(batchDelay)
	tick.Stop()
	flush := func() {
		if len(batch) > 0 {
			var err error
			if e.cfg.GRPCEndpoint != "" {
				err = e.sendGRPC(batch)
			} else {
				err = e.post(batch)
			}
			e.fail.Outcome(err, uint64(len(batch)), e.cfg.OnExportError)
			for _, r := range batch {
				e.t.pool.Put(r)
			}
			batch = batch[:0]
		}
	}
	for {
		select {
		case r := <-e.queue:
			if len(batch) == 0 {
				tick.Reset(batchDelay)
			}
			if batch = append(batch, r); len(batch) >= batchSize {
				flush()
			}
		case <-tick.C:
			flush()
		case d := <-e.stop:
			for deadline := time.Now().Add(d); time.Now().Before(deadline); {
				select {
				case r := <-e.queue:
					batch = append(batch, r)
					continue
				default:
				}
				break
			}
			flush()
			return
		}
	}
}

func (e *exporter) close(timeout time.Duration) {
	select {
	case e.stop <- timeout:
		<-e.done
	case <-e.done:
	}
}

// post sends one batch; a failure loses the spans (as an OTLP exporter's
// after its retries) and is returned.
func (e *exporter) post(batch []*Request) error {
	e.body = e.payload(e.body[:0], batch)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.cfg.Endpoint, bytes.NewReader(e.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range e.cfg.Headers {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req) // its errors name the URL without a password
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the collector answered %s", resp.Status)
	}
	return nil
}
