package service

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sluiceproxy/sluice/fastpath/pipeline"
)

// upgrade proxies a Connection: Upgrade request (WebSocket or any other
// protocol) on a connection of its own to the server. A 101 answer is
// relayed and the two connections are then joined byte for byte until
// either side closes; they no longer depend on the routing table, so
// table swaps never cut them. Any other answer is relayed as a normal
// response and the server connection closed.
// An upgrade over HTTP/2 cannot be (the front end has no connection to
// hand over): Go's HTTP/2 server refuses Connection and Upgrade headers, so
// none arrives here.
func upgrade(x *pipeline.Exchange, lb *LoadBalancer, srv *Server) {
	out, resp, e := &x.Out, x.Resp, srv.Endpoint
	host := x.SetServerHost(lb.PassHostHeader, e.Addr)
	defer x.RestoreHost(host)
	if e.AbsoluteForm() { // through an HTTP proxy, as Go's transport sends it
		x.ProxyForm(e.Addr, e.ProxyAuthorization())
		defer x.UndoProxyForm(e.ProxyAuthorization())
	}
	askGzip(x) // as Go's transport asks, even for an upgrade
	up, err := e.DialRaw()
	if err != nil {
		upstreamError(x, srv, err)
		return
	}
	bw := bufio.NewWriter(up)
	br := bufio.NewReader(up)
	if err = out.Write(bw); err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = resp.Read(br)
	}
	if err != nil {
		up.Close()
		resp.Reset()
		upstreamError(x, srv, err)
		return
	}
	if resp.StatusCode() != fasthttp.StatusSwitchingProtocols {
		up.Close()
		relayed(x)
		x.CloseAfter()
		return
	}
	log := x.EP.Log
	// Closed at the client connection's close too: when the 101 cannot be
	// written, the connection is closed without the hijack function.
	x.AtEnd(pipeline.EndFunc(func() { up.Close() }))
	if !x.Hijack(func(client net.Conn) {
		_ = client.SetDeadline(time.Time{})
		join(client, up, br)
		log.Debug("upgraded connection closed", "server", srv.URL)
	}) {
		up.Close()
		resp.Reset()
		upstreamError(x, srv, errNoHijack)
	}
}

var errNoHijack = errors.New("the client connection cannot be handed over")

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
