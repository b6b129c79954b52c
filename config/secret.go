package config

import "log/slog"

// redacted is what every printed form of a Secret shows.
const redacted = "[redacted]"

// Secret holds a credential (a token, a client secret value, the audit key).
// Every way of printing or serialising it says "[redacted]"; only Reveal
// gives the value, so a Config can be logged or dumped without leaking.
// Keep Secret fields exported: fmt prints unexported fields without calling
// their methods.
type Secret string

// Reveal returns the secret's value, for the one place that uses it.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret holds a value.
func (s Secret) IsSet() bool { return s != "" }

// String implements fmt.Stringer (%v, %s, %q, %+v).
func (Secret) String() string { return redacted }

// GoString implements fmt.GoStringer (%#v).
func (Secret) GoString() string { return redacted }

// MarshalJSON implements json.Marshaler.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler (slog's text handler, JSON map keys).
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalYAML implements yaml.Marshaler.
func (Secret) MarshalYAML() (any, error) { return redacted, nil }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
