// Package jaas parses the sasl.jaas.config property exactly as Kafka's Java client
// does (org.apache.kafka.common.security.JaasConfig and JaasContext.loadClientContext):
//
//	<loginModuleClass> <controlFlag> (<optionName>=<optionValue>)*;
//
// with one login module only. Values are words ([A-Za-z$_-] followed by those, digits
// and '.') or strings in double or single quotes with backslash escapes; comments are
// /* ... */, // and a lone '/' to the end of the line. Error messages are Java's, and
// never contain an option's value, which may be a secret.
package jaas

import (
	"errors"
	"strconv"
	"strings"
)

// Flag is a login module's control flag.
type Flag string

// The control flags JAAS defines; Kafka's clients use REQUIRED.
const (
	Required   Flag = "required"
	Requisite  Flag = "requisite"
	Sufficient Flag = "sufficient"
	Optional   Flag = "optional"
)

// Entry is the parsed sasl.jaas.config: one login module and its options.
type Entry struct {
	// Module is the login module's class name, e.g.
	// org.apache.kafka.common.security.plain.PlainLoginModule.
	Module string
	Flag   Flag
	// Options by name; a later duplicate wins, as in Java's HashMap. Options whose name
	// is not a word or string (Java keeps them under a null key, where nothing can
	// look them up) are left out.
	Options map[string]string
}

// Parse parses a sasl.jaas.config value.
func Parse(s string) (Entry, error) {
	t := newTokenizer(s)
	var entries []Entry
	for t.next() != ttEOF {
		e, err := parseEntry(t)
		if err != nil {
			return Entry{}, err
		}
		entries = append(entries, e)
	}
	switch {
	case len(entries) == 0:
		return Entry{}, errors.New("Login module not specified in JAAS config")
	case len(entries) != 1:
		// JaasContext.load: the parser accepts several, the client wants one.
		return Entry{}, errors.New("JAAS config property contains " + strconv.Itoa(len(entries)) + " login modules, should be 1 module")
	}
	return entries[0], nil
}

// parseEntry is JaasConfig.parseAppConfigurationEntry; t is on the module name.
func parseEntry(t *tokenizer) (Entry, error) {
	module := t.sval
	if t.next() == ttEOF {
		return Entry{}, errors.New("Login module control flag not specified in JAAS config")
	}
	if t.sval == nil {
		return Entry{}, errors.New("Login module control flag is not available in the JAAS config")
	}
	var flag Flag
	switch strings.ToUpper(*t.sval) {
	case "REQUIRED":
		flag = Required
	case "REQUISITE":
		flag = Requisite
	case "SUFFICIENT":
		flag = Sufficient
	case "OPTIONAL":
		flag = Optional
	default:
		return Entry{}, errors.New("Invalid login module control flag '" + *t.sval + "' in JAAS config")
	}
	opts := map[string]string{}
	for t.next() != ttEOF && t.ttype != ';' {
		key := t.sval
		if t.next() != '=' || t.next() == ttEOF || t.sval == nil {
			name := "null"
			if key != nil {
				name = *key
			}
			return Entry{}, errors.New("Value not specified for key '" + name + "' in JAAS config")
		}
		if key != nil {
			opts[*key] = *t.sval
		}
	}
	if t.ttype != ';' {
		return Entry{}, errors.New("JAAS config entry not terminated by semi-colon")
	}
	// javax.security.auth.login.AppConfigurationEntry refuses a missing or empty name
	// (with the message "null").
	if module == nil || *module == "" {
		return Entry{}, errors.New("login module class name missing in JAAS config")
	}
	return Entry{Module: *module, Flag: flag, Options: opts}, nil
}
