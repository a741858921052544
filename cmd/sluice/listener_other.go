//go:build !linux

package main

import "net"

// listenTCP is net.Listen off Linux.
func listenTCP(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
