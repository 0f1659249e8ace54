package main

// A static binary in a scratch container image finds no CA certificates on
// disk. Then, and only then (x509.SetFallbackRoots), these bundled roots let
// it verify HTTPS servers: the flow's lookups and the ACME directory.
import _ "golang.org/x/crypto/x509roots/fallback"
