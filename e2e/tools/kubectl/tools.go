//go:build tools

// Package tools keeps kubectl's main package in this module's graph for go mod tidy.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kubectl"
)
