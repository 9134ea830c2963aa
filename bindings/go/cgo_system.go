//go:build duosync_system

package duosync

// Build against an installed library described by duosync.pc (go build -tags duosync_system).

// #cgo pkg-config: duosync
import "C"
