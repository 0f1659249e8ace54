// Regenerates the SDK oracle files next to it: in a scratch directory run
// `npm install twilio plivo`, then `NODE_PATH=$PWD/node_modules node oracle.js DIR`
// with DIR this directory (internal/xml/testdata/sdk).
const fs = require('fs');
const twilio = require('twilio');
const plivo = require('plivo');
const tb = 'https://abc.ngrok.app/twilio/voice/', pb = 'https://abc.ngrok.app/plivo/voice/';
const r = new twilio.twiml.VoiceResponse();
const d = r.dial({callerId: '+15550009999', timeout: 15, action: tb + 'action/dial-done?menu=agents&ref=agents.0.0', method: 'POST'});
const w = tb + 'whisper?call=CA1&menu=agents&ref=agents.0.0&v=tok';
d.number({url: w, method: 'POST'}, '+15550001111');
d.sip({url: w, method: 'POST'}, 'sip:sales@pbx.example.com?X-IVR-Account=12%2034%265&X-IVR-Intent-Code=billing');
fs.writeFileSync(process.argv[2] + '/twilio_dial_whisper.xml', r.toString() + '\n');
const p = new plivo.Response();
const pd = p.addDial({callerId: '15550009999', timeout: 15, action: pb + 'action/dial-done?menu=agents&ref=agents.0.0', method: 'POST',
  confirmSound: pb + 'whisper?call=CA1&menu=agents&ref=agents.0.0&v=tok', confirmKey: '1'});
pd.addNumber('15550001111');
pd.addUser('sip:sales@pbx.example.com', {sipHeaders: 'IVR-Account=12_34_5,IVR-Intent-Code=billing'});
fs.writeFileSync(process.argv[2] + '/plivo_dial_whisper.xml', p.toXML() + '\n');
