//go:build tools

// Package tools keeps kube-apiserver's and kube-controller-manager's main packages in this
// module's graph for go mod tidy.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
