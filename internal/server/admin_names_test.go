package server

import (
	"strconv"

	"github.com/ivr-project/ivr/internal/admin"
)

// The admin side's names the whole-application tests here use.
type (
	tryRequest      = admin.TryRequest
	tryResponse     = admin.TryResponse
	tryPrompt       = admin.TryPrompt
	insightsJSON    = admin.InsightsJSON
	revisionFigures = admin.RevisionFigures
)

const (
	csrfField          = admin.CSRFField
	csrfCookie         = admin.CSRFCookie
	csrfHeader         = admin.CSRFHeader
	sessionCookie      = admin.SessionCookie
	sessionTTL         = admin.SessionTTL
	adminMaxWrong      = admin.MaxWrongTokens
	adminLockoutWindow = admin.LockoutWindow
)

var flowProblems = admin.FlowProblems

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
