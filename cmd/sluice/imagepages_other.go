//go:build !linux

package main

import "log/slog"

// releaseImage does nothing off Linux.
func releaseImage(*slog.Logger) {}

// releaseImagePages does nothing off Linux.
func releaseImagePages() (uint64, error) { return 0, nil }
