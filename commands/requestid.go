package commands

import (
	"strings"
)

const maxIDDigits = 9

// ParseRequestID checks and normalises a request id: "CT-" (any case) and a
// number from 1 to 999999999, leading zeros dropped, so "ct-012" is "CT-12".
func ParseRequestID(s string) (string, error) {
	id, err := requestID(s)
	if err != nil {
		return "", err
	}
	return id, nil
}

func requestID(s string) (string, *Error) {
	const form = "A request id is CT- followed by its number, like CT-12."
	if strings.ContainsAny(s, "<>") {
		return "", errorf(BadRequestID, "", "A Slack mention or link is not a request id. %s", form)
	}
	if len(s) >= 3 && strings.EqualFold(s[:3], "ct-") {
		digits := s[3:]
		if digits == "" {
			return "", errorf(BadRequestID, "", "%s has no number. %s", echo(s), form)
		}
		if !allDigits(digits) {
			return "", errorf(BadRequestID, "", "%s is not a request id: the part after CT- must be a number. %s", echo(s), form)
		}
		digits = strings.TrimLeft(digits, "0")
		if digits == "" {
			return "", errorf(BadRequestID, "", "%s is not a request id: request numbers start at 1. %s", echo(s), form)
		}
		if len(digits) > maxIDDigits {
			return "", errorf(BadRequestID, "", "%s is not a request id: the number is too large. %s", echo(s), form)
		}
		return "CT-" + digits, nil
	}
	// Common near misses: "12", "#12", "CT12", "ct_12".
	rest := strings.TrimPrefix(s, "#")
	if len(rest) >= 2 && strings.EqualFold(rest[:2], "ct") {
		rest = strings.TrimLeft(rest[2:], "_ –—−") // dashes a keyboard may substitute
	}
	if allDigits(rest) {
		n := strings.TrimLeft(rest, "0")
		if n != "" && len(n) <= maxIDDigits {
			return "", errorf(BadRequestID, "CT-"+n, "%s is not a request id. %s Did you mean CT-%s?", echo(s), form, n)
		}
	}
	if looksLikeTenant(s) {
		return "", errorf(BadRequestID, "", "%s looks like a tenant, not a request id. %s", echo(s), form)
	}
	return "", errorf(BadRequestID, "", "%s is not a request id. %s", echo(s), form)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
