package main

// The example flow's paths that TestSimulateExampleFlow plays.

// Texts of the example flow (internal/ivr/example.yaml).
const (
	cowbell        = "[plays https://api.twilio.com/cowbell.mp3]"
	welcome        = "Thank you for calling Example Company."
	mainGreeting   = "For billing, press 1 or say billing."
	mainGreetingES = "Para facturación, oprima 1 o diga facturación."
	mainShort      = "Press 1 for billing, 2 for support, 3 for hours, 0 for a person, or star for languages."
	mainShortES    = "Oprima 1 para facturación, 2 para soporte, 3 para el horario"
	langGreeting   = "For English, press 1."
	billingGreet   = "Billing. We see you are calling from 1 4 1 5 5 5 5 0 1 0 0."
	billingGreetES = "Facturación. Vemos que llama desde 1 4 1 5 5 5 5 0 1 0 0."
	balance        = "Your balance is available in your online account."
	supportGreet   = "Support. Press 1 to reach a technician. Press star to go back."
	supportGreetES = "Soporte. Oprima 1 para hablar con un técnico."
	hoursText      = "We are open every day, around the clock."
	dirGreeting    = "Enter the three digit extension, then press pound."
	invalid        = "Sorry, that is not one of the choices."
	invalidES      = "Lo siento, esa no es una de las opciones."
	silence        = "Sorry, I didn't hear anything."
	silenceES      = "Lo siento, no escuché nada."
	goodbye        = "We did not hear from you. Goodbye."
	goodbyeES      = "No hemos recibido respuesta. Adiós."
	handOver       = "Let me connect you with someone who can help."
	busy           = "All our technicians are busy."
	busyES         = "Todos nuestros técnicos están ocupados."
	techPrompt     = "Please leave a message after the beep and press pound when you are done."
	techThanks     = "Thank you. A technician will call you back. Goodbye."
	techThanksES   = "Gracias. Un técnico le devolverá la llamada. Adiós."
	callCenter     = "+15005550006"
	callerHangs    = "[caller hangs up: no more scripted input]"
)

func examplePaths() []simPath {
	return []simPath{
		// main menu, every option
		{name: "main/1 billing", digits: "1", expect: "caller-hangup",
			says:  []string{welcome, mainGreeting, billingGreet},
			order: []string{cowbell, welcome, mainGreeting, "caller presses 1", billingGreet, callerHangs}},
		{name: "main/2 support", digits: "2", expect: "caller-hangup",
			says: []string{supportGreet}, order: []string{mainGreeting, "caller presses 2", supportGreet, callerHangs}},
		{name: "main/3 hours then the menu repeats", digits: "3", expect: "caller-hangup",
			says: []string{hoursText, mainShort}, order: []string{"caller presses 3", hoursText, mainShort, callerHangs}},
		{name: "main/4 news plays and redirects to main", digits: "4", expect: "caller-hangup",
			says:  []string{mainGreeting},
			order: []string{cowbell, mainGreeting, "caller presses 4", cowbell, "/voice/menu/main", mainGreeting, callerHangs}},
		{name: "main/5 directory", digits: "5", expect: "caller-hangup",
			says: []string{dirGreeting}, order: []string{"caller presses 5", dirGreeting, callerHangs}},
		{name: "main/6 voicemail", digits: "6", expect: "voicemail",
			order: []string{"caller presses 6", "[records voicemail]", "/action/voicemail-done", "[hangup]"}},
		{name: "main/0 person", digits: "0", expect: "transfer:" + callCenter,
			says: []string{"Connecting you now."}, order: []string{"caller presses 0", "Connecting you now.", "[transfer to " + callCenter + "]"}},
		{name: "main/0 person, no answer", digits: "0", dial: "no-answer", expect: "hangup",
			says: []string{"Connecting you now."}, order: []string{"[dial no-answer]", "/action/dial-done", "[hangup]"}},
		{name: "main/9 Spanish", digits: "9", expect: "caller-hangup",
			says:  []string{mainGreetingES},
			order: []string{mainGreeting, "caller presses 9", mainGreetingES, callerHangs}},
		{name: "main/* language menu", digits: "*", expect: "caller-hangup",
			says: []string{langGreeting, "Para español, oprima 2."}, order: []string{"caller presses *", langGreeting, callerHangs}},
		{name: "answer by GET", digits: "2", method: "GET", expect: "caller-hangup",
			says: []string{welcome, mainGreeting, supportGreet}},

		// language selection, and the language carrying through the call
		{name: "language/2 Spanish", digits: "*,2", expect: "caller-hangup",
			says: []string{mainGreetingES}, order: []string{langGreeting, "caller presses 2", mainGreetingES, callerHangs}},
		{name: "language/1 English", digits: "9,*,1", expect: "caller-hangup",
			order: []string{mainGreetingES, "caller presses *", langGreeting, "caller presses 1", mainGreeting, callerHangs}},
		{name: "language/* back to main", digits: "*,*", expect: "caller-hangup",
			order: []string{langGreeting, "caller presses *", mainGreeting, callerHangs}},
		{name: "language/invalid then Spanish", digits: "*,7,2", expect: "caller-hangup",
			order: []string{langGreeting, "caller presses 7", invalid, "caller presses 2", mainGreetingES}},
		{name: "language invalid until max_failures (3): call center", digits: "*,7,8,9", expect: "transfer:" + callCenter,
			order: []string{langGreeting, invalid, langGreeting, invalid, langGreeting, handOver, "[dial completed]"}},
		{name: "language silence until max_timeouts (3)", digits: "*,timeout,timeout,timeout", expect: "hangup",
			order: []string{langGreeting, silence, langGreeting, silence, langGreeting, goodbye, "[hangup]"}},
		{name: "Spanish carries into billing", digits: "9,1", expect: "caller-hangup",
			says: []string{billingGreetES}, absent: []string{billingGreet}},
		{name: "Spanish carries into hours and the short greeting", digits: "9,3", expect: "caller-hangup",
			says: []string{"Estamos abiertos todos los días", mainShortES}, absent: []string{hoursText, mainShort}},
		{name: "Spanish carries through a failed transfer into voicemail", digits: "9,2,1", dial: "busy", expect: "voicemail",
			says:   []string{supportGreetES, busyES, "Deje un mensaje después del tono", techThanksES},
			absent: []string{busy, techThanks}},
		{name: "Spanish carries through billing's no_answer", digits: "9,1,2", dial: "no-answer", expect: "caller-hangup",
			says: []string{billingGreetES, supportGreetES}, absent: []string{supportGreet}},
		{name: "Spanish carries through the news redirect", digits: "9,4", expect: "caller-hangup",
			order: []string{mainGreetingES, "caller presses 4", cowbell, "/voice/menu/main?lang=es-ES", mainGreetingES, callerHangs}},
		{name: "Spanish: language/* back keeps Spanish", digits: "9,*,*", expect: "caller-hangup",
			order: []string{mainGreetingES, "caller presses *", langGreeting, "caller presses *", mainGreetingES, callerHangs}},
		{name: "Spanish invalid entries", digits: "9,7,8,7", expect: "transfer:" + callCenter,
			says: []string{invalidES, "Le comunico con alguien que pueda ayudarle."}, absent: []string{invalid, handOver}},
		{name: "Spanish silence", digits: "9,timeout,timeout,timeout", expect: "hangup",
			says: []string{silenceES, goodbyeES}, absent: []string{silence, goodbye}},

		// billing: options, back, top, transfer completed and not
		{name: "billing/1 balance then billing again", digits: "1,1", expect: "caller-hangup",
			order: []string{billingGreet, "caller presses 1", balance, billingGreet, callerHangs}},
		{name: "billing/2 transfer completed", digits: "1,2", expect: "transfer:" + callCenter,
			order: []string{billingGreet, "caller presses 2", "[transfer to " + callCenter + "]", "[dial completed]"}},
		{name: "billing/2 transfer no-answer goes to support", digits: "1,2", dial: "no-answer", expect: "caller-hangup",
			order: []string{"[dial no-answer]", "/action/dial-done", supportGreet, callerHangs}},
		{name: "billing/2 transfer busy, support/1 busy, voicemail", digits: "1,2,1", dial: "busy", expect: "voicemail",
			order: []string{"[dial busy]", supportGreet, "caller presses 1", "[dial busy]", busy, techPrompt, "[records voicemail]", techThanks, "[hangup]"}},
		{name: "billing/* back to main", digits: "1,*", expect: "caller-hangup",
			order: []string{billingGreet, "caller presses *", mainGreeting, callerHangs}},
		{name: "billing/0 top", digits: "1,0", expect: "caller-hangup",
			order: []string{billingGreet, "caller presses 0", mainGreeting, callerHangs}},
		{name: "billing invalid until max_failures (2): start again", digits: "1,7,8", expect: "caller-hangup",
			order:  []string{billingGreet, "caller presses 7", invalid, billingGreet, "caller presses 8", "Let's start again.", mainGreeting, callerHangs},
			absent: []string{handOver}},
		{name: "billing silence until max_timeouts (3)", digits: "1,timeout,timeout,timeout", expect: "hangup",
			order: []string{billingGreet, "(caller stays silent)", silence, "(caller stays silent)", silence, "(caller stays silent)", goodbye, "[hangup]"}},

		// support: transfer to two numbers, no answer, back
		{name: "support/1 transfer completed", digits: "2,1", expect: "transfer:" + callCenter + ",+15005550001",
			order: []string{supportGreet, "caller presses 1", "[dial completed]"}},
		{name: "support/1 no answer: voicemail", digits: "2,1", dial: "no-answer", expect: "voicemail",
			says:  []string{busy, techPrompt, techThanks},
			order: []string{"[dial no-answer]", busy, techPrompt, "[records voicemail]", "/action/voicemail-done", techThanks, "[hangup]"}},
		{name: "support/1 failed: voicemail", digits: "2,1", dial: "failed", expect: "voicemail", says: []string{busy, techThanks}},
		{name: "support/* back to main", digits: "2,*", expect: "caller-hangup",
			order: []string{supportGreet, "caller presses *", mainGreeting, callerHangs}},
		{name: "support/* back to billing", digits: "1,2,*", dial: "no-answer", expect: "caller-hangup",
			order: []string{billingGreet, "[dial no-answer]", supportGreet, "caller presses *", billingGreet, callerHangs}},

		{name: "support invalid until max_failures (3): call center", digits: "2,7,8,9", expect: "transfer:" + callCenter,
			order: []string{supportGreet, invalid, supportGreet, invalid, supportGreet, handOver, "[dial completed]"}},
		{name: "support silence until max_timeouts (3)", digits: "2,,,", expect: "hangup",
			order: []string{supportGreet, silence, silence, goodbye, "[hangup]"}},

		{name: "back twice: support, billing, main", digits: "1,2,*,*", dial: "no-answer", expect: "caller-hangup",
			order: []string{billingGreet, supportGreet, "caller presses *", billingGreet, "caller presses *", mainGreeting, callerHangs}},

		// directory: exact multi-digit code, pattern, regular expression
		{name: "directory/100# exact", digits: "5,100#", expect: "transfer:" + callCenter,
			order: []string{dirGreeting, "caller presses 100#", "[dial completed]"}},
		{name: "directory/100# no answer: hang up", digits: "5,100#", dial: "no-answer", expect: "hangup",
			order: []string{"caller presses 100#", "[dial no-answer]", "/action/dial-done", "[hangup]"}},
		{name: "directory/100 ended by a pause", digits: "5,100", expect: "transfer:" + callCenter},
		{name: "directory/2XX pattern", digits: "5,250#", expect: "transfer:" + callCenter,
			says: []string{"Extensions in the two hundreds are in the sales office."}},
		{name: "directory/regexp 3[0-4]X: voicemail", digits: "5,321#", expect: "voicemail",
			says:  []string{"That extension is out of office."},
			order: []string{"caller presses 321#", "That extension is out of office.", "[records voicemail]", "[hangup]"}},
		{name: "directory/regexp does not match 350", digits: "5,350#", expect: "caller-hangup",
			order: []string{"caller presses 350#", invalid, callerHangs}},
		{name: "directory/0# top", digits: "5,0#", expect: "caller-hangup",
			order: []string{dirGreeting, "caller presses 0#", mainGreeting, callerHangs}},
		{name: "directory invalid until max_failures (3): call center", digits: "5,999#,1#,42#", expect: "transfer:" + callCenter,
			order: []string{dirGreeting, invalid, invalid, handOver, "[dial completed]"}},
		{name: "directory silence until max_timeouts (2)", digits: "5,timeout,timeout", expect: "hangup",
			order: []string{dirGreeting, "(caller stays silent)", silence, "(caller stays silent)", goodbye, "[hangup]"}},

		// main: invalid input, silence, counted separately; hang up
		{name: "main invalid until max_failures (3): call center", digits: "7,8,7", expect: "transfer:" + callCenter,
			order: []string{"caller presses 7", invalid, mainShort, "caller presses 8", invalid, "caller presses 7", handOver, "[dial completed]"}},
		{name: "main silence until max_timeouts (3): goodbye", digits: "timeout,timeout,timeout", expect: "hangup",
			order: []string{mainGreeting, silence, mainShort, silence, goodbye, "[hangup]"}},
		{name: "main wrong keys and silence counted apart", digits: "7,timeout,8,timeout", expect: "caller-hangup",
			order: []string{invalid, silence, invalid, silence, callerHangs}, absent: []string{handOver, goodbye}},
		{name: "main a valid choice starts the count again", digits: "7,7,3,7,7", expect: "caller-hangup",
			order: []string{invalid, invalid, hoursText, mainShort, invalid, invalid, callerHangs}, absent: []string{handOver}},
		{name: "caller hangs up at main", digits: "hangup", expect: "caller-hangup",
			order: []string{mainGreeting, "[caller hangs up: scripted]"}},
		{name: "caller hangs up in billing", digits: "1,hangup", expect: "caller-hangup",
			order: []string{billingGreet, "[caller hangs up: scripted]"}},

		// speech where the example takes it (main and language)
		{name: "speech billing", speech: "billing", expect: "caller-hangup",
			order: []string{mainGreeting, `caller says "billing"`, billingGreet, callerHangs}},
		{name: "speech a phrase: pay my bill", speech: "I want to pay my bill please", expect: "caller-hangup",
			says: []string{billingGreet}},
		{name: "speech support", speech: "help", expect: "caller-hangup", says: []string{supportGreet}},
		{name: "speech hours", speech: "opening hours", expect: "caller-hangup",
			says: []string{hoursText, mainShort}},
		{name: "speech agent", speech: "an agent", expect: "transfer:" + callCenter, says: []string{"Connecting you now."}},
		{name: "speech español then facturación", speech: "español,facturación", expect: "caller-hangup",
			order: []string{`caller says "español"`, mainGreetingES, `caller says "facturación"`, billingGreetES}},
		{name: "speech unknown words are invalid", speech: "banana,bananas,more bananas", expect: "transfer:" + callCenter,
			order: []string{invalid, invalid, handOver}},
		{name: "speech at the language menu", digits: "*", speech: "spanish", expect: "caller-hangup",
			order: []string{"caller presses *", langGreeting, `caller says "spanish"`, mainGreetingES}},
		{name: "speech numerals match keys", speech: "3", expect: "caller-hangup", says: []string{hoursText}},
	}
}
