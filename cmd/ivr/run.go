package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/ivr-project/ivr/internal/config"
	"github.com/ivr-project/ivr/internal/ivr"
	"github.com/ivr-project/ivr/internal/publish"
	"github.com/ivr-project/ivr/internal/simulate"
)

const usage = `usage: ivr [command]

  ivr [serve]                 serve the webhooks, the admin UI, /healthz, /readyz and /metrics
  ivr check [FLOW]            validate a flow file (default: IVR_FLOW or the bundled example)
  ivr simulate [flags]        play a call through a running server (ivr simulate -h)
  ivr sign [flags] URL [k=v]  print a curl command with a valid signature (ivr sign -h)
  ivr version                 print the version, VCS revision and time, and Go version (also --version)
  ivr healthcheck [URL]       exit 0 when the server on IVR_ADDR (or URL) answers /healthz

Configuration comes from the environment and a .env file; see README.md.
`

// run is the whole program: main only calls it, and tests call it with their
// own arguments, environment, input and output. The .env file read is
// IVR_ENV_FILE from getenv (default .env in the working directory).
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	dotenvPath := getenv("IVR_ENV_FILE")
	if dotenvPath == "" {
		dotenvPath = ".env"
	}
	dotenv, err := config.ReadDotenv(dotenvPath)
	if err != nil {
		return err
	}
	getenv = config.Getenv(getenv, dotenv)
	cmd, rest := "serve", []string(nil)
	if len(args) > 1 {
		cmd, rest = args[1], args[2:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "check":
		return check(rest, getenv, stdout)
	case "simulate":
		return helpIsNoError(simulate.Simulate(ctx, rest, getenv, stdin, stdout, stderr))
	case "sign":
		return helpIsNoError(simulate.Sign(rest, getenv, stdout, stderr))
	case "version", "--version", "-version":
		return version(rest, stdout)
	case "healthcheck":
		return healthcheck(ctx, rest, getenv, stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// helpIsNoError makes `-h` exit 0.
func helpIsNoError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// check validates a flow file and prints every problem as file:line:col:
// message; for a flow that loads, its warnings and each secret it needs,
// set or not in this environment.
func check(args []string, getenv func(string) string, stdout io.Writer) error {
	path := getenv("IVR_FLOW")
	if len(args) > 0 {
		path = args[0]
	}
	var (
		f   *ivr.Flow
		err error
	)
	if path == "" {
		path = "example.yaml (bundled)"
		f, err = ivr.Parse(path, ivr.Example())
	} else {
		f, err = publish.Load(path)
	}
	var problems ivr.Problems
	if errors.As(err, &problems) {
		for _, p := range problems {
			fmt.Fprintln(stdout, p.String())
		}
		return fmt.Errorf("%s: %d problem(s)", path, len(problems))
	}
	if err != nil {
		return err
	}
	for _, w := range f.Warnings() {
		w.Msg = "warning: " + w.Msg
		fmt.Fprintln(stdout, w.String())
	}
	secrets := config.NewSecrets(getenv)
	for _, name := range f.Secrets() {
		state := "set"
		if errs := secrets.Check([]string{name}); len(errs) > 0 {
			state = fmt.Sprintf("not set (%s%s or %s%s_FILE): its lookups run their on_error", config.SecretPrefix, name, config.SecretPrefix, name)
		}
		fmt.Fprintf(stdout, "secret %s: %s\n", name, state)
	}
	fmt.Fprintf(stdout, "%s: ok\n", path)
	return nil
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
