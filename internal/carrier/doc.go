// Package carrier is the carrier's side of a call: what Twilio or Plivo
// sends to the server's webhooks. It holds the parameters they send on a
// call and what each is named, the ids and nonces they make, and the
// signatures they add. `ivr simulate`, `ivr sign` and the admin Try page
// build their requests here; the server reads requests by the same names.
//
// It knows signatures (through internal/auth) and parameters, never menus,
// XML or the server.
package carrier
