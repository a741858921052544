// Package h2 is the HTTP/2 server of Sluice's front ends (RFC 9113, with
// HPACK, RFC 7541): h2c with prior knowledge on plain entry points, and
// (later) HTTP/2 over TLS.
//
// Each connection has one reader goroutine, which reads and checks every
// frame, decodes header blocks into a pooled Stream, and starts the
// stream's Handler on a goroutine of its own; the handler reads the
// request body from the Stream and writes its response with
// WriteResponse, which writes the frames itself under the connection's
// write lock, within the client's flow-control windows. Frames waiting
// in the write buffer go to the socket in one write when their last
// writer leaves, so responses finishing together share a syscall. There
// is no goroutine between the socket and the handlers, and no request or
// header map: the request is byte slices into the stream's buffers.
//
// Lifetimes: a Stream and every slice of its Request are valid until its
// handler returns, then pooled. ServeConn returns when the reader stops
// (the client left, a connection error, Shutdown, the idle timeout);
// handlers still running then see their reads and writes fail and end on
// their own, so the net.Conn given to ServeConn must fail every use once
// its owner closes it.
//
// Limits: SETTINGS_MAX_CONCURRENT_STREAMS (250) counts running handlers,
// not open streams, so streams a client resets at once (CVE-2023-44487)
// still count until their handlers end; a header block is bounded in
// size and frames (CVE-2024-27316); a request header list over
// MaxHeaderBytes is answered 431; frames larger than 16 KiB are refused.
// Responses use HPACK's static table and literals only: nothing a
// response carries is kept by the connection.
package h2
