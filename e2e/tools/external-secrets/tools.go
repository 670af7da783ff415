//go:build tools

// Package tools keeps ESO's main package in this module's graph for go mod tidy.
package tools

import _ "github.com/external-secrets/external-secrets"
