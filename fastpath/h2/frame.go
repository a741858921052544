package h2

import (
	"encoding/binary"
	"fmt"
)

// Frame types (RFC 9113 section 6).
const (
	frameData         = 0x0
	frameHeaders      = 0x1
	framePriority     = 0x2
	frameRSTStream    = 0x3
	frameSettings     = 0x4
	framePushPromise  = 0x5
	framePing         = 0x6
	frameGoAway       = 0x7
	frameWindowUpdate = 0x8
	frameContinuation = 0x9
)

// Frame flags.
const (
	flagEndStream  = 0x1 // DATA, HEADERS
	flagAck        = 0x1 // SETTINGS, PING
	flagEndHeaders = 0x4 // HEADERS, CONTINUATION
	flagPadded     = 0x8 // DATA, HEADERS
	flagPriority   = 0x20
)

// Settings identifiers (RFC 9113 section 6.5.2).
const (
	settingHeaderTableSize      = 0x1
	settingEnablePush           = 0x2
	settingMaxConcurrentStreams = 0x3
	settingInitialWindowSize    = 0x4
	settingMaxFrameSize         = 0x5
	settingMaxHeaderListSize    = 0x6
)

// ErrCode is an HTTP/2 error code (RFC 9113 section 7).
type ErrCode uint32

const (
	ErrNo               ErrCode = 0x0
	ErrProtocol         ErrCode = 0x1
	ErrInternal         ErrCode = 0x2
	ErrFlowControl      ErrCode = 0x3
	ErrStreamClosed     ErrCode = 0x5
	ErrFrameSize        ErrCode = 0x6
	ErrRefusedStream    ErrCode = 0x7
	ErrCancel           ErrCode = 0x8
	ErrCompression      ErrCode = 0x9
	ErrEnhanceYourCalm  ErrCode = 0xb
	ErrHTTP11Required   ErrCode = 0xd
	ErrSettingsTimeout  ErrCode = 0x4
	ErrConnect          ErrCode = 0xa
	ErrInadequateSecure ErrCode = 0xc
)

// Protocol limits.
const (
	frameHeaderLen   = 9
	minMaxFrameSize  = 1 << 14 // the default and least SETTINGS_MAX_FRAME_SIZE
	maxMaxFrameSize  = 1<<24 - 1
	maxWindow        = 1<<31 - 1
	defaultWindow    = 65535
	clientPreface    = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	headerTableLimit = 4096 // the SETTINGS_HEADER_TABLE_SIZE we keep (the default)
)

// connError ends the connection with a GOAWAY carrying code.
type connError struct {
	code   ErrCode
	reason string
}

func (e connError) Error() string {
	return fmt.Sprintf("http2: connection error %d: %s", e.code, e.reason)
}

// frameHeader is a frame's fixed 9-octet header.
type frameHeader struct {
	length uint32
	typ    uint8
	flags  uint8
	stream uint32
}

func (h frameHeader) has(f uint8) bool { return h.flags&f != 0 }

func parseFrameHeader(b []byte) frameHeader {
	return frameHeader{
		length: uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]),
		typ:    b[3],
		flags:  b[4],
		stream: binary.BigEndian.Uint32(b[5:]) & (1<<31 - 1),
	}
}

func appendFrameHeader(b []byte, length int, typ, flags uint8, stream uint32) []byte {
	return append(b, byte(length>>16), byte(length>>8), byte(length), typ, flags,
		byte(stream>>24), byte(stream>>16), byte(stream>>8), byte(stream))
}

func appendUint32(b []byte, v uint32) []byte {
	return binary.BigEndian.AppendUint32(b, v)
}

// stripPadding removes a PADDED frame's pad length octet and padding.
func stripPadding(h frameHeader, p []byte) ([]byte, bool) {
	if !h.has(flagPadded) {
		return p, true
	}
	if len(p) < 1 {
		return nil, false
	}
	pad := int(p[0])
	if pad >= len(p) {
		return nil, false // the padding is the payload's length or more
	}
	return p[1 : len(p)-pad], true
}
