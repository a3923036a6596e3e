// Command observatory is LLM Observatory: one binary for every role.
// Run `observatory help` for the subcommands.
package main

import (
	"os"

	"github.com/llm-observatory/observatory/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
