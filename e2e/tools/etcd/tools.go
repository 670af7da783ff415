//go:build tools

// Package tools keeps etcd's main package in this module's graph for go mod tidy.
package tools

import _ "go.etcd.io/etcd/server/v3"
