package config

import (
	"errors"
	"net"
	"strconv"
	"strings"
)

// Trim removes leading and trailing characters at or below U+0020, as Java's
// String.trim does; ConfigDef trims every value before parsing it.
func Trim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
}

// ParseBool parses a Java BOOLEAN config value: "true" or "false", any case.
func ParseBool(v string) (bool, error) {
	switch {
	case strings.EqualFold(v, "true"):
		return true, nil
	case strings.EqualFold(v, "false"):
		return false, nil
	}
	return false, errors.New("must be true or false")
}

// ParseInt parses a Java INT (bits 32) or LONG (bits 64) config value: decimal
// digits with an optional sign, as Integer.parseInt and Long.parseLong accept.
func ParseInt(v string, bits int) (int64, error) {
	n, err := strconv.ParseInt(v, 10, bits)
	if err == nil {
		return n, nil
	}
	if errors.Is(err, strconv.ErrRange) {
		if bits == 32 {
			return 0, errors.New("out of range for a 32-bit int")
		}
		return 0, errors.New("out of range for a 64-bit long")
	}
	return 0, errors.New("not an integer")
}

// ParseList splits a Java LIST config value on commas, trimming whitespace around
// each element; an empty value is an empty list and empty elements are kept, as
// ConfigDef does, so that validators can reject them.
func ParseList(v string) []string {
	if v == "" {
		return nil
	}
	parts := strings.Split(v, ",")
	for i, p := range parts {
		parts[i] = Trim(p)
	}
	return parts
}

// NormalizeServer validates one bootstrap server and returns it as host:port. Like
// Java's Utils.getHost/getPort it accepts an optional "scheme://" prefix (dropped)
// and an IPv6 host in brackets; the port must be 1-65535.
func NormalizeServer(s string) (string, error) {
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", errors.New("must be host:port")
	}
	if host == "" {
		return "", errors.New("must be host:port with a non-empty host")
	}
	for _, c := range []byte(host) {
		ok := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
			c == '-' || c == '.' || c == '_' || c == '%' || c == ':'
		if !ok {
			return "", errors.New("host contains an invalid character")
		}
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return "", errors.New("port must be a number from 1 to 65535")
	}
	return net.JoinHostPort(host, port), nil
}
