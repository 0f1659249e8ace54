// The Node app a user would write instead of ivr, for scripts/load.sh to
// measure beside it: Express, twilio.webhook() checking X-Twilio-Signature,
// and the main menu built with twilio's VoiceResponse on every request.
// It stores nothing.
//
//   npm ci && TWILIO_AUTH_TOKEN=... node server.js [host:port]
"use strict";
const express = require("express");
const twilio = require("twilio");

const token = process.env.TWILIO_AUTH_TOKEN;
if (!token) {
  console.error("express: TWILIO_AUTH_TOKEN is required");
  process.exit(1);
}
const [host, port] = (process.argv[2] || "127.0.0.1:8092").split(":");

const app = express();
app.post(
  "/twilio/voice",
  express.urlencoded({ extended: false }),
  twilio.webhook(token, { protocol: "http" }),
  (req, res) => {
    const r = new twilio.twiml.VoiceResponse();
    const g = r.gather({ action: "/twilio/voice/menu/main?attempt=1", input: "dtmf speech", numDigits: 1, timeout: 6 });
    g.say({ voice: "Polly.Joanna", language: "en-US" }, "For billing, press 1. For support, press 2. To speak with someone, press 0.");
    r.redirect({ method: "POST" }, "/twilio/voice/menu/main?attempt=1");
    res.type("text/xml").send(r.toString());
  },
);

const server = app.listen(Number(port), host, () => {
  const a = server.address();
  console.log(`express listening on http://${a.address}:${a.port}`);
});
