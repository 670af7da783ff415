// Command vault is HashiCorp Vault's own entry point, built from the Go module proxy.
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() {
	os.Exit(command.Run(os.Args[1:]))
}
