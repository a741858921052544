package fastpath

import (
	"bufio"
	"io"
	"net"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/route"
)

// upgrade proxies a Connection: Upgrade request (WebSocket or any other
// protocol) on a connection of its own to the server. A 101 answer is
// relayed and the two connections are then joined byte for byte until
// either side closes; they no longer depend on the routing table, so
// table swaps never cut them. Any other answer is relayed as a normal
// response and the server connection closed.
func (h *Handler) upgrade(ctx *fasthttp.RequestCtx, st *state, svc *route.Service, srv *route.Server) {
	req, resp := &ctx.Request, &ctx.Response
	req.Header.ResetConnectionClose()
	req.SetRequestURIBytes(st.fwd)
	req.UseHostHeader = true
	if !svc.PassHostHeader {
		req.Header.SetHost(srv.Endpoint.Addr)
	}
	up, err := srv.Endpoint.DialRaw()
	if err != nil {
		h.upstreamError(ctx, srv, err)
		return
	}
	bw := bufio.NewWriter(up)
	br := bufio.NewReader(up)
	if err = req.Write(bw); err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = resp.Read(br)
	}
	if err != nil {
		up.Close()
		resp.Reset()
		h.upstreamError(ctx, srv, err)
		return
	}
	if resp.StatusCode() != fasthttp.StatusSwitchingProtocols {
		up.Close()
		stripResponseHopHeaders(&resp.Header)
		ctx.SetConnectionClose()
		return
	}
	log := h.log
	ctx.Hijack(func(client net.Conn) {
		_ = client.SetDeadline(time.Time{})
		join(client, up, br)
		log.Debug("upgraded connection closed", "server", srv.URL)
	})
}

// join copies both ways until one side ends, then closes both. fromUp
// holds what the server sent after its 101 header.
func join(client, up net.Conn, fromUp *bufio.Reader) {
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			client.Close()
			up.Close()
		})
	}
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(up, client)
		closeBoth()
		close(done)
	}()
	_, _ = io.Copy(client, fromUp)
	closeBoth()
	<-done
}
