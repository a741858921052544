//go:build !linux

package main

import "errors"

func serveEpoll(string, []string) error { return errors.New("-mode epoll needs Linux") }
